// The published package: `npm run prebuildify` + `npm pack` give a tarball that a consumer installs with
// scripts off (no compiler, no build) and loads with both require() and import. Runs on a copy of the
// package, because prebuildify moves build/Release/*.node.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'nodeformer-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODEFORMER_ADDON: '' } });

describe('npm pack', () => {
  it('ships a prebuild that installs with --ignore-scripts and loads via require and import', () => {
    const pkg = join(work, 'pkg');
    for (const p of ['package.json', 'tsconfig.json', 'binding.gyp', 'CMakeLists.txt', 'README.md', 'native', 'cuda', 'scripts', 'lib']) {
      cpSync(join(ROOT, p), join(pkg, p), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');

    run('npm', ['run', '--silent', 'prebuildify'], pkg);
    const platform = `${process.platform}-${process.arch}`;
    expect(readdirSync(join(pkg, 'prebuilds', platform))).toEqual(['nodeformer.node']);

    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], pkg)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toContain(`prebuilds/${platform}/nodeformer.node`);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('binding.gyp');
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('bench/') || f.startsWith('build/'))).toBe(false);

    const consumer = join(work, 'consumer');
    cpSync(join(ROOT, 'test', 'package', 'consumer'), consumer, { recursive: true });
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    run('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', join(work, packed[0]!.filename)], consumer);
    expect(existsSync(join(consumer, 'node_modules', 'nodeformer', 'build'))).toBe(false); // nothing was compiled

    for (const script of ['use.cjs', 'use.mjs']) {
      const out = JSON.parse(run(process.execPath, [script], consumer)) as {
        c: number[]; simd: string; loss: number; text: string; generated: number[][]; streamed: number[];
      };
      expect(out.c).toEqual([19, 22, 43, 50]);
      expect(out.loss).toBeGreaterThan(0); // a finite cross-entropy of 9 classes, about ln 9
      expect(out.loss).toBeLessThan(10);
      expect(['avx512', 'avx2', 'neon', 'scalar']).toContain(out.simd);
      expect(out.text).toBe('hello world');
      expect(out.generated).toHaveLength(2);
      for (const ids of [...out.generated, out.streamed]) {
        expect(ids.length).toBeLessThanOrEqual(4);
        for (const id of ids) expect(id >= 0 && id < 9 && Number.isInteger(id)).toBe(true);
      }
    }
  }, 240_000);
});
