export { backend, type BackendInfo, type Device, type Simd } from './backend.js';
export {
  DeviceError,
  DisposedError,
  DTypeError,
  type ErrorCode,
  FormatError,
  InvalidArgumentError,
  NativeError,
  NativeLoadError,
  NodeformerError,
  OutOfRangeError,
  ShapeError,
} from './errors.js';
export {
  type AdamStepOptions, type AttentionOptions, type CrossEntropyOptions, type DropoutOptions, type MatmulOptions, ops,
} from './ops/index.js';
export { type AdamOptions, type AdamParamState, type AdamStateDict, optim } from './optim/index.js';
export { ones, randn, type RandnOptions, tensor, type TensorOptions, zeros } from './tensor/create.js';
export { type DType, Tensor } from './tensor/tensor.js';
