// The `nodeformer` command in child processes, as a user runs it: train a tiny model on a 40-line TSV
// (piped and on a terminal), translate (arguments and stdin), evaluate, average checkpoints, Ctrl-C, and
// one-line errors with exit code 1.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Translator } from '../../lib/index.js';
import { ROOT, TSX_IMPORT } from '../helpers.js';

const BIN = join(ROOT, 'lib', 'cli', 'bin.ts');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'cli');
const work = mkdtempSync(join(tmpdir(), 'nodeformer-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// The CLI from its TypeScript sources, through tsx's loader (resolved in helpers: the child runs in a temp folder).
const NODE_ARGS = [...TSX_IMPORT, BIN];
const run = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [...NODE_ARGS, ...args], { cwd: work, input, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const TINY = ['--tokenizer', 'word', '--vocab', '40', '--d-model', '32', '--heads', '2', '--layers', '1', '--ffn', '64', '--dropout', '0',
  '--batch-tokens', '120', '--warmup', '20', '--lr', '1', '--max-length', '16', '--bleu-samples', '5', '--threads', '1'];
const DATA = ['--data', join(FIXTURES, 'numbers.tsv'), '--valid', join(FIXTURES, 'numbers_valid.tsv'), '--src-column', 'en', '--tgt-column', 'es'];
const model = join(work, 'model');

describe('nodeformer CLI', () => {
  beforeAll(() => {
    const r = run(['train', ...DATA, '--out', model, '--max-steps', '60', '--eval-every', '20', ...TINY]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Piped: plain lines, no carriage returns or escape codes, each progress line with "loss <number>".
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what must not appear
    expect(r.stdout).not.toMatch(/[\r\x1b]/);
    expect(r.stdout).toMatch(/^step \d+ .*loss \d+\.\d+/m);
    expect(r.stdout).toMatch(/eval step 60: valid loss \d/);
  }, 120_000);

  it('train writes a loadable translator, checkpoints, history and curves (SVG and PNG)', () => {
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'checkpoints/history.json', 'curves.svg', 'checkpoints/step-00000060/model.safetensors']) {
      expect(existsSync(join(model, f)), f).toBe(true);
    }
    expect(readFileSync(join(model, 'curves.svg'), 'utf8')).toMatch(/<svg[^>]*>[\s\S]*Validation BLEU[\s\S]*<path /);
    expect([...readFileSync(join(model, 'curves.png')).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it('translate: one line per text, in order, from arguments and from stdin (an empty line stays empty)', () => {
    const a = run(['translate', '--model', model, 'One two.', 'Three.']);
    expect(a.code).toBe(0);
    expect(a.stdout.split('\n')).toHaveLength(3);
    const b = run(['translate', '--model', model], 'One two.\n\nThree.\n');
    expect(b.code).toBe(0);
    const lines = b.stdout.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe('');
    expect([lines[0], lines[2]]).toEqual(a.stdout.split('\n').slice(0, 2));
    const beam = run(['translate', '--model', model, '--beam-size', '3', 'One two.']);
    expect(beam.code).toBe(0);
    expect(beam.stdout.split('\n')).toHaveLength(2);
  });

  it('translate --quantize int8 [--no-quantize-generator] is the quantized Translator\'s translation', async () => {
    const texts = ['One two.', 'Three four five.'];
    for (const quantizeGenerator of [true, false]) {
      const r = run(['translate', '--model', model, '--quantize', 'int8', ...(quantizeGenerator ? [] : ['--no-quantize-generator']), ...texts]);
      expect(r.code, r.stderr).toBe(0);
      const translator = await Translator.load(model, { quantize: 'int8', quantizeGenerator });
      expect(translator.model.int8Scales(translator.model.generator.weight) !== null).toBe(quantizeGenerator);
      expect(r.stdout).toBe(`${(await translator.translate(texts)).join('\n')}\n`);
    }
  });

  it('eval prints BLEU, chrF, ROUGE and perplexity', () => {
    const r = run(['eval', '--model', model, '--data', join(FIXTURES, 'numbers_valid.tsv'), '--src-column', 'en', '--tgt-column', 'es']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^BLEU \d+\.\d\d \(/m);
    expect(r.stdout).toMatch(/^chrF2 \d+\.\d\d$/m);
    expect(r.stdout).toMatch(/^ROUGE-1 \d/m);
    expect(r.stdout).toMatch(/^perplexity \d+\.\d\d/m);
  });

  it('average writes a translator from checkpoints', () => {
    const out = join(work, 'averaged');
    const r = run(['average', '--out', out, join(model, 'checkpoints', 'step-00000040'), join(model, 'checkpoints', 'step-00000060')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(run(['translate', '--model', out, 'One.']).code).toBe(0);
  });

  it('info and bench print what this machine runs', () => {
    const info = run(['info']);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^nodeformer \d+\.\d+\.\d+ on node/);
    expect(info.stdout).toMatch(/simd: (avx512|avx2|neon|scalar)/);
    const bench = run(['bench']);
    expect(bench.code).toBe(0);
    expect(bench.stdout.match(/^\| [^|]+ \| [^|]+ \| \d+\.\d{3} \| \d+\.\d{3} \| \d+\.\d×/gm)).toHaveLength(5);
  }, 60_000);

  it('every user error is one line on stderr and exit code 1', () => {
    const malformed = join(work, 'malformed.tsv');
    writeFileSync(malformed, 'en\tes\nOne.\tUno.\nTwo.\n');
    const cases: Array<[string[], RegExp]> = [
      [['train', '--data', malformed, '--src-column', 'en', '--tgt-column', 'es', '--out', join(work, 'x')], /line 3/],
      [['train', '--data', join(work, 'missing.tsv'), '--src-column', 'en', '--tgt-column', 'es', '--out', join(work, 'x')], /missing\.tsv/],
      [['train', ...DATA.slice(0, 4), '--src-column', 'english', '--tgt-column', 'es', '--out', join(work, 'x')], /english/],
      [['translate', '--model', model, '--beam-size', 'two', 'x'], /--beam-size/],
      [['translate', '--model', join(work, 'nothing-here'), 'x'], /nothing-here/],
      [['translate', '--model', model, '--bogus', 'x'], /--bogus/],
      [['frobnicate'], /frobnicate/],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('on a terminal, train draws a progress bar', () => {
    const out = join(work, 'tty');
    const command = [process.execPath, ...NODE_ARGS, 'train', ...DATA, '--out', out, '--max-steps', '10', '--eval-every', '10', ...TINY]
      .map((a) => `'${a}'`).join(' ');
    // script(1) runs the command on a pseudo-terminal.
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: work, encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\r/);
    expect(r.stdout).toMatch(/step 10 \| epoch \d+ \| loss \d+\.\d+/);
    expect(existsSync(join(out, 'config.json'))).toBe(true);
  });

  it('Ctrl-C during train writes a checkpoint and a loadable translator, and exits 130', async () => {
    const out = join(work, 'interrupted');
    cpSync(join(FIXTURES, 'numbers.tsv'), join(work, 'numbers.tsv'));
    const child: ChildProcess = spawn(process.execPath, [...NODE_ARGS, 'train', ...DATA, '--out', out, '--max-steps', '100000', '--eval-every', '100000', ...TINY], { cwd: work });
    let stdout = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (/loss \d/.test(stdout) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(130);
    expect(stdout).toMatch(/interrupted at step \d+/);
    expect(run(['translate', '--model', out, 'One.']).code).toBe(0);
  }, 60_000);
});
