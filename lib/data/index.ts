/** From a parallel-text file to padded token batches: read, train tokenizers, encode, filter, batch, prefetch. */
export { batchByTokens, type BatchByTokensOptions, type PairBatch } from './batch.js';
export { encodePairs, type PairTokenizers } from './encode.js';
export { filterByLength, type LengthFilterMode, type LengthFilterOptions, type LengthFilterReport } from './filter.js';
export type { EncodedPair, TextPair } from './pairs.js';
export { prefetch } from './prefetch.js';
export { prepareBatch, type PrepareBatchOptions, type PreparedBatch } from './prepare.js';
export { type PairFormat, readPairs, type ReadPairsOptions, readPairsStream } from './read_pairs.js';
export { type TokenizerKind, type TokenizerKinds, type TrainedTokenizers, trainTokenizers, type TrainTokenizersOptions } from './vocab.js';
