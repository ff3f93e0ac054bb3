/**
 * Length filtering of encoded pairs, with a count of every pair it dropped or cut. Lengths are counted in
 * tokens as the pairs hold them, special tokens included: what the model sees, so `maxSrc` and `maxTgt`
 * compare directly with the model's `maxLength` (and an empty sentence, `<bos> <eos>`, has length 2).
 */
import { checkInteger, checkNumber, checkOneOf, checkOptions } from '../check.js';
import { InvalidArgumentError } from '../errors.js';
import { SPECIAL_TOKENS } from '../tokenizer/train.js';
import { checkEncodedPairs, type EncodedPair } from './pairs.js';

export type LengthFilterMode = 'drop' | 'truncate';

export interface LengthFilterOptions {
  /** Longest source kept, in tokens. Default: no limit. */
  maxSrc?: number;
  /** Longest target kept, in tokens. Default: no limit. */
  maxTgt?: number;
  /** Pairs with a side shorter than this are dropped (in both modes). Default 1; 3 drops empty sentences. */
  minLength?: number;
  /**
   * Pairs whose longer side is more than `maxRatio` times the shorter are dropped (misaligned lines, as
   * Moses' clean-corpus-n does by words). Checked on the lengths before any truncation. Default: no limit.
   */
  maxRatio?: number;
  /** A side over its maximum drops the pair ('drop', the default) or is cut to the maximum ('truncate'). */
  mode?: LengthFilterMode;
  /**
   * When truncating, a side that ends with this id keeps it as its last token (`<bos> a b c <eos>` cut to 4
   * is `<bos> a b <eos>`), as Hugging Face's truncation keeps special tokens; `null` cuts plainly.
   * Default 2, this package's `<eos>`.
   */
  eosId?: number | null;
}

/** What the filter did: `total = kept + dropped`, `dropped = tooShort + badRatio + tooLong`. */
export interface LengthFilterReport {
  total: number;
  kept: number;
  dropped: number;
  /** Kept pairs with a side cut ('truncate' mode). */
  truncated: number;
  /** Each dropped pair counts under its first reason, in this order. */
  tooShort: number;
  badRatio: number;
  /** Dropped for a side over its maximum ('drop' mode). */
  tooLong: number;
}

const OPTIONS = ['maxSrc', 'maxTgt', 'minLength', 'maxRatio', 'mode', 'eosId'] as const;
const NAME = 'filterByLength options';

/**
 * The pairs that fit, in their order, and a report. Pairs left whole are the same arrays as the input's;
 * a truncated side is a new array.
 *
 * @example
 * const { pairs: kept, report } = data.filterByLength(encoded, { maxSrc: 128, maxTgt: 128, mode: 'truncate' });
 * console.log(`${report.truncated} truncated, ${report.dropped} dropped of ${report.total}`);
 */
export function filterByLength(
  pairs: readonly EncodedPair[], options: LengthFilterOptions = {},
): { pairs: EncodedPair[]; report: LengthFilterReport } {
  checkEncodedPairs(pairs, 'filterByLength pairs');
  const o = checkOptions<LengthFilterOptions>(options, NAME, OPTIONS);
  const maxSrc = o.maxSrc === undefined ? Infinity : checkInteger(o.maxSrc, `${NAME}.maxSrc`, 1);
  const maxTgt = o.maxTgt === undefined ? Infinity : checkInteger(o.maxTgt, `${NAME}.maxTgt`, 1);
  const minLength = o.minLength === undefined ? 1 : checkInteger(o.minLength, `${NAME}.minLength`, 0);
  const maxRatio = o.maxRatio === undefined ? Infinity : checkNumber(o.maxRatio, `${NAME}.maxRatio`, 1, Infinity);
  const mode = o.mode === undefined ? 'drop' : checkOneOf(o.mode, `${NAME}.mode`, ['drop', 'truncate'] as const);
  const eosId = o.eosId === undefined ? SPECIAL_TOKENS.indexOf('<eos>') : o.eosId === null ? null : checkInteger(o.eosId, `${NAME}.eosId`);
  if (minLength > Math.min(maxSrc, maxTgt)) {
    throw new InvalidArgumentError(
      `Expected ${NAME}.minLength to be at most maxSrc and maxTgt but received minLength ${minLength} with maxSrc ${maxSrc} and maxTgt ${maxTgt}`,
    );
  }
  const report: LengthFilterReport = { total: pairs.length, kept: 0, dropped: 0, truncated: 0, tooShort: 0, badRatio: 0, tooLong: 0 };
  const kept: EncodedPair[] = [];
  for (const pair of pairs) {
    const [src, tgt] = pair;
    const ls = src.length, lt = tgt.length;
    if (ls < minLength || lt < minLength) {
      report.tooShort++;
    } else if (Math.max(ls, lt) / Math.min(ls, lt) > maxRatio) { // 0/0 is NaN: two empty sides are kept
      report.badRatio++;
    } else if (ls <= maxSrc && lt <= maxTgt) {
      kept.push(pair);
    } else if (mode === 'drop') {
      report.tooLong++;
    } else {
      kept.push([truncate(src, maxSrc, eosId), truncate(tgt, maxTgt, eosId)]);
      report.truncated++;
    }
  }
  report.kept = kept.length;
  report.dropped = report.tooShort + report.badRatio + report.tooLong;
  return { pairs: kept, report };
}

function truncate(ids: number[], max: number, eosId: number | null): number[] {
  if (ids.length <= max) return ids;
  const cut = ids.slice(0, max);
  if (eosId !== null && ids[ids.length - 1] === eosId) cut[max - 1] = eosId;
  return cut;
}
