// The second front door: CMakeLists.txt (cmake-js) builds the same native/ sources as binding.gyp into an
// addon that loads and computes the same products. Runs on a copy, because cmake-js rebuild replaces
// build/, and with WITH_CUDA=OFF: the CUDA build itself is `npm run build:cuda`, which CI runs before
// testing the whole suite again on its result (the second test below then checks how it is linked).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'nodeformer-cmake-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('cmake-js build', () => {
  it('builds the same sources into a working addon', () => {
    for (const p of ['package.json', 'CMakeLists.txt', 'native', 'cuda', 'scripts']) cpSync(join(ROOT, p), join(work, p), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
    execFileSync('npx', ['cmake-js', 'rebuild', '--CDWITH_CUDA=OFF'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    const addon = join(work, 'build', 'Release', 'nodeformer.node');
    expect(existsSync(addon)).toBe(true);
    const script = `
      const n = require(${JSON.stringify(addon)});
      const c = new Float32Array(4);
      n.matmulForward(c, new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), 2, 2, 2, false, false, false, 1, null, null, null);
      console.log(JSON.stringify({ c: [...c], info: n.info() }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
      c: number[]; info: { simd: string; supportedSimd: string[]; cudaCompiled: boolean };
    };
    expect(out.c).toEqual([19, 22, 43, 50]);
    expect(out.info.simd).toBe(out.info.supportedSimd.at(-1));
    expect(out.info.cudaCompiled).toBe(false);
  }, 600_000);

  // The addon under test is the CUDA build after `npm run build:cuda` (node-gyp-build loads build/Release).
  const loaded = join(ROOT, 'build', 'Release', 'nodeformer.node');
  it.skipIf(!native().info().cudaCompiled || process.platform !== 'linux' || !existsSync(loaded))(
    'the CUDA addon links cudart statically: it loads where no CUDA toolkit is installed', () => {
      expect(execFileSync('ldd', [loaded], { encoding: 'utf8' })).not.toMatch(/libcudart|libcuda\./);
      const exported = execFileSync('nm', ['-D', '--defined-only', loaded], { encoding: 'utf8' });
      expect(exported).not.toMatch(/cuda/i);
    });
});
