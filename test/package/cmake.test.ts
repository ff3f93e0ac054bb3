// The second front door: CMakeLists.txt (cmake-js) builds the same native/ sources as binding.gyp into an
// addon that loads and computes the same products, plus the CUDA kernels of cuda/ when nvcc is on PATH
// (WITH_CUDA=AUTO). Runs on a copy, because cmake-js rebuild replaces build/. With CUDA it compiles for
// sm_80 only, to keep the test's build short (`npm run build:cuda` builds all four architectures); the
// GPU-less test machine can compile and load the kernels but not run them.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'nodeformer-cmake-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// What CMake's check_language(CUDA) will find: nvcc on PATH (CUDACXX is not set in the test environment).
const hasNvcc = spawnSync('nvcc', ['--version']).status === 0;

describe('cmake-js build', () => {
  it(`builds the same sources into a working addon (${hasNvcc ? 'with' : 'without'} CUDA)`, () => {
    for (const p of ['package.json', 'CMakeLists.txt', 'native', 'cuda', 'scripts']) cpSync(join(ROOT, p), join(work, p), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
    execFileSync('npx', ['cmake-js', 'rebuild', '--CDCMAKE_CUDA_ARCHITECTURES=80-real'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
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
    expect(out.info.cudaCompiled).toBe(hasNvcc);
    if (hasNvcc && process.platform === 'linux') {
      // cudart is linked statically: the addon must load where no CUDA toolkit is installed.
      expect(execFileSync('ldd', [addon], { encoding: 'utf8' })).not.toMatch(/libcudart|libcuda\./);
    }
  }, 600_000);
});
