// `nodeformer attend` in a child process, as a user runs it, on the shipped model: the translation on
// stdout (the same as `translate`'s), the heatmap as SVG and PNG, and one-line errors for a layer or head
// the model does not have.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ROOT, TSX_IMPORT } from '../helpers.js';

const BIN = join(ROOT, 'lib', 'cli', 'bin.ts');
const work = mkdtempSync(join(tmpdir(), 'nodeformer-attend-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (args: string[]) => {
  const r = spawnSync(process.execPath, [...TSX_IMPORT, BIN, ...args], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const TEXT = 'In the beginning God created the heavens and the earth.';

describe('nodeformer attend', () => {
  it('prints the translation and writes the heatmap as <prefix>.svg and <prefix>.png', () => {
    // A prefix in a folder that does not exist yet: attend makes it.
    const prefix = join(work, 'pictures', 'genesis');
    const r = run(['attend', '--out', prefix, TEXT]);
    expect(r.stderr).toBe(`${prefix}.svg\n${prefix}.png\n`);
    expect(r.code).toBe(0);
    const translated = run(['translate', TEXT]);
    expect(translated.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(translated.stdout.split('\n')[0]);

    const svg = readFileSync(`${prefix}.svg`, 'utf8');
    // The source as the model saw it, <bos> … <eos>, along the top; the default picture is the mean of every head.
    expect(svg).toContain('>&lt;bos&gt;</text>');
    expect(svg).toContain('>&lt;eos&gt;</text>');
    expect(svg).toMatch(/>[^<]*God<\/text>/);
    expect(svg).toMatch(/Cross-attention, mean of 3 layers × 4 heads/);
    expect([...readFileSync(`${prefix}.png`).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  }, 120_000);

  it('draws one layer, or one head of it', () => {
    const r = run(['attend', '--out', 'head', '--layer', '2', '--head', '3', TEXT]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(work, 'head.svg'), 'utf8')).toContain('Cross-attention, layer 2, head 3');
  }, 60_000);

  it('refuses a layer or head the model does not have, with one line and exit code 1', () => {
    const layer = run(['attend', '--out', 'bad', '--layer', '3', TEXT]);
    expect(layer.code).toBe(1);
    expect(layer.stderr).toBe('nodeformer: --layer 3 is out of range: the model has 3 layers (0–2)\n');
    expect(layer.stdout).toBe('');
    const head = run(['attend', '--out', 'bad', '--layer', '0', '--head', '4', TEXT]);
    expect(head.code).toBe(1);
    expect(head.stderr).toBe('nodeformer: --head 4 is out of range: each layer has 4 heads (0–3)\n');
    expect(existsSync(join(work, 'bad.svg'))).toBe(false);
  }, 120_000);
});
