/** The run's history beside its checkpoints: `history.json`, one entry per step and per evaluation. */
import fs from 'node:fs';
import { join } from 'node:path';

import { FormatError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { HistoryEntry } from './trainer.js';

const HISTORY_FILE = 'history.json';

export async function readHistory(dir: string): Promise<HistoryEntry[]> {
  const file = join(dir, HISTORY_FILE);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    return JSON.parse(text) as HistoryEntry[];
  } catch (cause) {
    throw new FormatError(`${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

export async function writeHistory(dir: string, history: readonly HistoryEntry[]): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, HISTORY_FILE), `[\n${history.map((e) => JSON.stringify(e)).join(',\n')}\n]\n`);
}
