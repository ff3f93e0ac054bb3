// lib/io/atomic.ts: writeFileAtomic replaces a file whole or not at all, and never leaves its temp file
// behind. Failures come from the file system itself (a missing directory, a
// directory in the way) and, for the steps after the temp file exists, from a failure injected into
// the fs module the writer uses.
import fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { InvalidArgumentError } from '../../lib/index.js';
import { isAtomicTemp, writeFileAtomic } from '../../lib/io/atomic.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nodeformer-atomic-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const injected = () => Object.assign(new Error('injected failure'), { code: 'EIO' });

/** Makes the writer's `step` throw, after its temp file exists. */
function injectFailure(step: 'write' | 'fsync' | 'rename'): void {
  if (step === 'rename') {
    vi.spyOn(fs.promises, 'rename').mockRejectedValue(injected());
  } else {
    // The async writer writes and syncs through the FileHandle that open() gives.
    const open = fs.promises.open.bind(fs.promises);
    vi.spyOn(fs.promises, 'open').mockImplementation(async (...args: Parameters<typeof fs.promises.open>) => {
      const handle = await open(...args);
      Object.assign(handle, { [step === 'write' ? 'writeFile' : 'sync']: async () => { throw injected(); } });
      return handle;
    });
  }
}

const write = writeFileAtomic;

describe('writeFileAtomic', () => {
  it('writes bytes and strings that read back exactly, leaving only the target in the directory', async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff);
    await write(join(dir, 'a.bin'), bytes);
    await write(join(dir, 'b.txt'), 'héllo ✓\n');
    await write(join(dir, 'empty'), new Uint8Array(0));
    expect(new Uint8Array(readFileSync(join(dir, 'a.bin')))).toEqual(bytes);
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('héllo ✓\n');
    expect(readFileSync(join(dir, 'empty')).length).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['a.bin', 'b.txt', 'empty']);
  });

  it('replaces an existing file wholly, also by shorter content', async () => {
    const target = join(dir, 'f');
    writeFileSync(target, 'x'.repeat(10_000));
    await write(target, 'short');
    expect(readFileSync(target, 'utf8')).toBe('short');
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('writes a view at an offset as just its bytes', async () => {
    const backing = Uint8Array.from([9, 9, 1, 2, 3, 9]);
    await write(join(dir, 'v'), backing.subarray(2, 5));
    expect([...readFileSync(join(dir, 'v'))]).toEqual([1, 2, 3]);
  });

  it('fails with ENOENT when the directory is missing, creating nothing', async () => {
    await expect(write(join(dir, 'no', 'such', 'f'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails when a directory is in the way, removing its temp file and leaving the directory alone', async () => {
    const target = join(dir, 'sub');
    fs.mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'keep');
    await expect(write(target, 'x')).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(readdirSync(dir)).toEqual(['sub']);
    expect(readFileSync(join(target, 'inside'), 'utf8')).toBe('keep');
  });

  it.each(['write', 'fsync', 'rename'] as const)('a failure at %s leaves the old file intact and no temp file', async (step) => {
    const target = join(dir, 'model.bin');
    writeFileSync(target, 'old content');
    injectFailure(step);
    await expect(write(target, 'new content that must not appear')).rejects.toThrow('injected failure');
    vi.restoreAllMocks();
    expect(readFileSync(target, 'utf8')).toBe('old content');
    expect(readdirSync(dir)).toEqual(['model.bin']);
  });

  it('isAtomicTemp names exactly the temp files it makes (hidden, target name, pid, 12 hex digits, .tmp)', () => {
    expect(isAtomicTemp('.model.safetensors.4242.0123456789ab.tmp')).toBe(true);
    for (const name of [
      'model.safetensors.4242.0123456789ab.tmp', '.model.safetensors.x42.0123456789ab.tmp', '.model.safetensors.4242.0123456789a.tmp',
      '.model.safetensors.4242.0123456789AB.tmp', '.model.safetensors.4242.0123456789ab.tmp.bak', '..4242.0123456789ab.tmp', '.a.4242.0123456789ag.tmp',
    ]) expect(isAtomicTemp(name), name).toBe(false);
  });

  it('rejects a bad path or data with InvalidArgumentError', async () => {
    await expect(write('', 'x')).rejects.toThrow(InvalidArgumentError);
    await expect(write(42 as never, 'x')).rejects.toThrow(/Expected a non-empty file path for path but received the number 42/);
    await expect(write(join(dir, 'f'), [1, 2] as never)).rejects.toThrow(/Expected a Uint8Array or a string for data/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('gives concurrent writers distinct temp files: the target ends whole, as one of them wrote it', async () => {
    const target = join(dir, 'race');
    const contents = Array.from({ length: 8 }, (_, i) => String(i).repeat(50_000));
    await Promise.all(contents.map((c) => writeFileAtomic(target, c)));
    expect(contents).toContain(readFileSync(target, 'utf8'));
    expect(readdirSync(dir)).toEqual(['race']);
  });
});
