/**
 * Atomic file replacement: the data goes to a fresh temp file beside the target, is flushed to disk,
 * and is renamed over the target, so a reader (or a crash, or a power cut) sees either the whole old file
 * or the whole new one, never a half-written mix. Then the directory is flushed so that the rename itself
 * survives a power cut. On any failure the temp file is removed and the error rethrown; the target is
 * untouched.
 *
 * The new file gets default permissions (as `fs.writeFile` gives a new file), and a symlink at `path` is
 * replaced by a plain file rather than followed.
 *
 * @example
 * await writeFileAtomic('checkpoint/model.safetensors', bytes);
 */
import { randomBytes } from 'node:crypto';
// The module object (not named imports), so that tests can inject a failure at a given step.
import fs from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { fail } from '../check.js';

/**
 * Errors of a directory fsync that mean "this platform does not do that" (Windows cannot open a
 * directory, some file systems refuse fsync on one), not that the data is at risk.
 */
const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'EISDIR', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF']);

function check(path: unknown, data: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '') fail('a non-empty file path', 'path', path);
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) fail('a Uint8Array or a string', 'data', data);
}

/** A name no other writer picks: hidden, next to the target (a rename across file systems is not atomic). */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Whether `name` (a file name, no directory) is a temp file of {@link writeFileAtomic}: one that a killed
 * writer left behind, for the owner of a directory to sweep.
 */
export const isAtomicTemp = (name: string): boolean => /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/.test(name);

function ignoreUnsupported(err: unknown): void {
  if (!DIR_SYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
}

/** Writes `data` (a string as UTF-8) to `path` atomically; see the module comment. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  check(path, data);
  const temp = tempPathFor(path);
  let created = false;
  let handle: fs.promises.FileHandle | undefined;
  try {
    // 'wx': fail rather than write into a file that exists, so `created` means the file is ours to remove.
    handle = await fs.promises.open(temp, 'wx');
    created = true;
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.promises.rename(temp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    if (created) await fs.promises.rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** Flushes a directory's entries (a rename into it) to disk, where the platform supports that. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    ignoreUnsupported(err);
  } finally {
    await handle?.close();
  }
}
