// Translator: a model with its tokenizers as one folder; translate batches by length and restores order.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { FormatError, InvalidArgumentError, Translator, Transformer, WordTokenizer } from '../lib/index.js';
import { randomModel } from './decode/helpers.js';
import { ROOT, TSX_IMPORT } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'nodeformer-translator-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const texts = ['one two three four five six', 'one', 'two three', '', 'four five six one two', '  ', 'three'];
const source = WordTokenizer.train(['one two three four five six'], {});
const target = WordTokenizer.train(['uno dos tres cuatro cinco seis'], {});
const config = { srcVocabSize: source.vocabSize, tgtVocabSize: target.vocabSize, dModel: 16, heads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 32 };

describe('Translator', () => {
  it('translates a batch in input order, each text as it translates alone; blank texts give ""', async () => {
    const t = new Translator(randomModel(config, 1, 0.35, 1.5), source, target);
    const batch = await t.translate(texts, { maxLength: 8 });
    expect(batch).toHaveLength(texts.length);
    for (let i = 0; i < texts.length; i++) expect(batch[i], texts[i]).toBe((await t.translate(texts[i]!, { maxLength: 8 }))[0]);
    expect(batch[3]).toBe('');
    expect(batch[5]).toBe('');
    expect(batch.filter((s) => s !== '').length).toBeGreaterThan(0);
  });

  it('saves and loads as one folder, shared or separate tokenizers, translating the same', async () => {
    for (const [name, tgt] of [['separate', target], ['shared', source]] as const) {
      const t = new Translator(randomModel({ ...config, tgtVocabSize: tgt.vocabSize }, 2, 0.35, 1.5), source, tgt);
      const dir = join(work, name);
      await t.save(dir);
      const back = await Translator.load(dir);
      expect(back.source === back.target).toBe(name === 'shared');
      expect(await back.translate(texts, { maxLength: 8 })).toEqual(await t.translate(texts, { maxLength: 8 }));
    }
  });

  it('saves F16 weights in half the bytes, each within half an F16 ulp of the float32 one', async () => {
    const t = new Translator(randomModel(config, 4, 0.35, 1.5), source, target);
    await t.save(join(work, 'f32'));
    await t.save(join(work, 'f16'), { dtype: 'F16' });
    const size = (d: string) => statSync(join(work, d, 'model.safetensors')).size;
    expect(size('f16') / size('f32')).toBeLessThan(0.55); // half, plus the header of a tiny model
    const back = await Translator.load(join(work, 'f16'));
    for (const [name, w] of back.model.stateDict()) {
      const original = t.model.stateDict().get(name)!.toFloat32Array();
      const widened = w.toFloat32Array();
      for (let i = 0; i < original.length; i++) expect(Math.abs(widened[i]! - original[i]!), name).toBeLessThanOrEqual(Math.abs(original[i]!) * 2 ** -11 + 2 ** -25);
    }
    await expect(t.save(join(work, 'bad'), { dtype: 'F8' as 'F16' })).rejects.toThrow(/dtype/);
  });

  it('Translator.default() is the shipped English→Spanish model, and a script using it exits by itself', async () => {
    const t = await Translator.default();
    const [es] = await t.translate('In the beginning God created the heavens and the earth.');
    expect(es).toMatch(/principio/i); // RV1909: "EN el principio crió Dios los cielos y la tierra."
    expect(es).toMatch(/Dios/);
    expect(es).toMatch(/tierra/);
    const script = `import { Translator } from ${JSON.stringify(pathToFileURL(join(ROOT, 'lib', 'index.ts')).href)};
      const t = await Translator.default(); console.log((await t.translate(['Jesus wept.']))[0]);`;
    const r = spawnSync(process.execPath, [...TSX_IMPORT, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0); // a worker or timer left behind would keep it running until the timeout
    expect(r.stdout.trim().length).toBeGreaterThan(0);
  }, 90_000);

  it('rejects what it cannot translate with typed errors', async () => {
    const t = new Translator(randomModel(config, 3), source, target);
    await expect(t.translate([1 as unknown as string])).rejects.toThrow(InvalidArgumentError);
    await expect(t.translate(['one'], { prefix: [[1]] })).rejects.toThrow(/prefix/);
    await expect(t.translate(['one'], { beamSize: 0, strategy: 'beam' })).rejects.toThrow(/beamSize/);
    await expect(Translator.load(join(work, 'nowhere'))).rejects.toThrow(FormatError);
    expect(() => new Translator(new Transformer({ ...config, srcVocabSize: 4 }), source, target)).toThrow(/srcVocabSize/);
  });
});
