export type { AddedToken } from './added_tokens.js';
export { type BPETrainOptions, BPETokenizer } from './bpe.js';
export { CharTokenizer, type CharTrainOptions } from './char.js';
export type { TrainProgress } from './models/bpe_trainer.js';
export type { UnicodeForm } from './normalizer.js';
export { SPECIAL_TOKENS, type TrainOptions } from './train.js';
export { type DecodeOptions, type EncodeOptions, type Encoding, Tokenizer } from './tokenizer.js';
export { WordPieceTokenizer, type WordPieceTrainOptions } from './wordpiece.js';
export { WordTokenizer, type WordTrainOptions } from './word.js';
