// lib/backend.ts: info, threads, SIMD level, devices; NODEFORMER_ISA in a fresh process.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { backend, DeviceError, InvalidArgumentError } from '../lib/index.js';
import { withThreads } from './helpers.js';
import { native } from '../lib/native/binding.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function child(code: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('backend', () => {
  it('info() follows the API contract', () => {
    const info = backend.info();
    expect(['avx512', 'avx2', 'neon', 'scalar']).toContain(info.simd);
    expect(info.supportedSimd.at(-1)).toBe(info.simd);
    expect(info.supportedSimd[0]).toBe('scalar');
    expect(info.threads).toBeGreaterThanOrEqual(1);
    // This addon's CUDA: compiled in by npm run build:cuda (CI runs the suite on both builds); usable only
    // with a GPU and driver, and when not, it says why (test/cuda/device.test.ts checks the refusals).
    expect(info.cuda.compiled).toBe(native().info().cudaCompiled);
    if (info.cuda.available) expect(info.cuda.devices.length).toBeGreaterThan(0);
    else expect(info.cuda).toEqual({ compiled: info.cuda.compiled, available: false, devices: [], reason: expect.stringMatching(/\w/) });
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.device).toBe('cpu');
  });

  it('keeps freed memory for reuse on glibc unless NODEFORMER_MALLOC=system, and releases it on demand', () => {
    const glibc = process.platform === 'linux' && (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime !== undefined;
    expect(backend.info().retainsFreedMemory).toBe(glibc);
    expect(() => backend.releaseMemory()).not.toThrow();
    const out = child("import { backend } from './lib/index.ts'; console.log(backend.info().retainsFreedMemory);", { NODEFORMER_MALLOC: 'system' });
    expect(out.trim()).toBe('false');
  });

  it('setThreads changes the pool and validates', () => {
    withThreads(3, () => expect(backend.info().threads).toBe(3));
    expect(() => backend.setThreads(0)).toThrow(InvalidArgumentError);
    expect(() => backend.setThreads(1.5)).toThrow(InvalidArgumentError);
  });

  it('setSimd accepts supported levels only', () => {
    const best = backend.info().simd;
    expect(backend.setSimd('scalar')).toBe('scalar');
    expect(backend.info().simd).toBe('scalar');
    expect(backend.setSimd(best)).toBe(best);
    expect(() => backend.setSimd('sse' as never)).toThrow(InvalidArgumentError);
    if (!backend.info().supportedSimd.includes('neon')) expect(() => backend.setSimd('neon')).toThrow(/supports/);
  });

  it.skipIf(backend.info().cuda.available)("setDevice('cuda') explains why it cannot", () => {
    expect(() => backend.setDevice('cuda')).toThrow(DeviceError);
    expect(() => backend.setDevice('cuda')).toThrow(backend.info().cuda.compiled ? /CUDA is not available/ : /no CUDA kernels/);
    backend.setDevice('cpu');
    expect(backend.getDevice()).toBe('cpu');
  });

  it('NODEFORMER_ISA forces a lower level at load, and a bad one is a clear error', () => {
    const code = "import { backend } from './lib/index.ts'; console.log(backend.info().simd)";
    expect(child(code, { NODEFORMER_ISA: 'scalar' }).trim()).toBe('scalar');
    const bad = "import { backend } from './lib/index.ts'; try { backend.info() } catch (e) { console.log(e.name + ': ' + e.message) }";
    expect(child(bad, { NODEFORMER_ISA: 'avx9000' })).toMatch(/InvalidArgumentError: NODEFORMER_ISA: Expected an ISA this machine supports/);
  });

  it('a missing addon fails with every place tried and how to fix it', () => {
    const code = "import { backend } from './lib/index.ts'; try { backend.info() } catch (e) { console.log(e.name + '\\n' + e.message) }";
    const out = child(code, { NODEFORMER_ADDON: '/nonexistent/nodeformer.node' });
    expect(out).toMatch(/^NativeLoadError/);
    expect(out).toMatch(/\/nonexistent\/nodeformer.node \(from NODEFORMER_ADDON\)/);
    expect(out).toMatch(/build[/\\]Release[/\\]nodeformer.node/);
    expect(out).toMatch(/prebuilds[/\\]linux-x64|prebuilds[/\\]/);
    expect(out).toMatch(/npm rebuild nodeformer/);
  });
});
