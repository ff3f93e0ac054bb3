/** A vocabulary: token ↔ id, ids dense from 0. */
import { describe } from '../check.js';
import { FormatError } from '../errors.js';

export class Vocab {
  readonly tokens: readonly string[];
  private readonly ids: Map<string, number>;

  private constructor(tokens: readonly string[], ids: Map<string, number>) {
    this.tokens = tokens;
    this.ids = ids;
  }

  static fromList(tokens: readonly string[]): Vocab {
    const ids = new Map<string, number>();
    tokens.forEach((t, i) => {
      if (ids.has(t)) throw new FormatError(`Expected each token once in the vocabulary but received ${JSON.stringify(t)} twice (ids ${ids.get(t)} and ${i})`);
      ids.set(t, i);
    });
    return new Vocab(tokens, ids);
  }

  /** tokenizer.json's `{ token: id }`; the ids must be 0…n-1, each once. */
  static fromObject(obj: unknown, where: string): Vocab {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new FormatError(`Expected an object of token → id for ${where} but received ${describe(obj)}`);
    const entries = Object.entries(obj);
    const tokens: string[] = new Array(entries.length);
    for (const [token, id] of entries) {
      if (!Number.isInteger(id) || id < 0 || id >= entries.length) {
        throw new FormatError(`Expected ids 0…${entries.length - 1} for ${where} but received ${JSON.stringify(id)} for token ${JSON.stringify(token)}`);
      }
      if (tokens[id] !== undefined) throw new FormatError(`Expected each id once in ${where} but received ${id} for both ${JSON.stringify(tokens[id])} and ${JSON.stringify(token)}`);
      tokens[id] = token;
    }
    return Vocab.fromList(tokens);
  }

  get size(): number {
    return this.tokens.length;
  }

  id(token: string): number | undefined {
    return this.ids.get(token);
  }

  toObject(): Record<string, number> {
    return Object.fromEntries(this.tokens.map((t, i) => [t, i]));
  }
}
