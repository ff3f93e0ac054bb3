export { isGradEnabled, noGrad } from './autograd/tape.js';
export { backend, type BackendInfo, type Device, type LowPrecisionKernels, type MatmulPrecision, type Simd, type SimdOptions } from './backend.js';
export {
  AbortError,
  ClosedError,
  DeviceError,
  DisposedError,
  DTypeError,
  type ErrorCode,
  FormatError,
  InvalidArgumentError,
  NativeError,
  NativeLoadError,
  NodeformerError,
  NonFiniteError,
  OutOfRangeError,
  QueueFullError,
  ShapeError,
} from './errors.js';
export {
  type AdamStepOptions, type AttentionOptions, type CrossEntropyOptions, type DropoutOptions, type MatmulOptions, ops,
} from './ops/index.js';
export { type AdamOptions, type AdamParamState, type AdamStateDict, optim } from './optim/index.js';
export { ones, randn, type RandnOptions, tensor, type TensorOptions, zeros } from './tensor/create.js';
export { type DType, Tensor } from './tensor/tensor.js';
export * as data from './data/index.js';
export * as metrics from './metrics/index.js';
export type {
  BleuScore, ChrfOptions, ChrfScore, ClassificationAverage, ClassLabel, PerLabelPrecisionRecallF1, PrecisionRecallF1,
  PrecisionRecallF1Options, RougeOptions, RougeScore, RougeScores,
} from './metrics/index.js';
export * as nn from './nn/index.js';
export {
  type HeadConfig, type LoadStateDictOptions, Module, type Pooling, SequenceClassifier, type StateDictOptions, TokenClassifier,
  type LoadOptions, type Quantization, type QuantizeOptions, type SaveOptions, Transformer, type TransformerConfig,
} from './nn/index.js';
export type { ReduceOptions } from './ops/arith.js';
export type { BeamStop, GenerateOptions, Strategy } from './decode/options.js';
export type { Hypothesis } from './decode/search.js';
export type { AttentionMap } from './decode/attention.js';
export {
  type BPETrainOptions, BPETokenizer, CharTokenizer, type CharTrainOptions, type DecodeOptions, type EncodeOptions, type Encoding,
  SPECIAL_TOKENS, Tokenizer, type TrainOptions, type TrainProgress, type UnicodeForm, WordPieceTokenizer, type WordPieceTrainOptions,
  WordTokenizer, type WordTrainOptions,
} from './tokenizer/index.js';
export {
  type EvalEntry, type Evaluation, type FitOptions, type HistoryEntry, type Pair, type Schedule, type StepEntry, Trainer, type TrainerOptions,
} from './train/index.js';
export { type Alignment, Translator } from './translator.js';
export {
  type BatchOptions, BatchedTranslator, type BatchStats, type RequestOptions, type StreamPiece, type Translation,
} from './serve/batched.js';
export { createTranslationServer, type ServerOptions, type TranslationServer } from './serve/server.js';
