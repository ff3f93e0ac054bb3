/** `nodeformer info`: the package, the native addon and what it chose on this CPU, and the shipped model. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { backend } from '../backend.js';
import { DEFAULT_MODEL_DIR } from '../translator.js';
import { version } from './version.js';

export async function infoCommand(): Promise<void> {
  const i = backend.info();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`nodeformer ${version()} on node ${process.versions.node} (${process.platform}-${process.arch})`);
  for (const [k, v] of Object.entries(i)) say(`  ${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  if (existsSync(join(DEFAULT_MODEL_DIR, 'config.json'))) {
    const c = JSON.parse(await readFile(join(DEFAULT_MODEL_DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
    say(`shipped model: ${DEFAULT_MODEL_DIR}`);
    say(`  ${Object.entries(c).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`);
  } else say(`shipped model: missing (${DEFAULT_MODEL_DIR})`);
}
