/**
 * Optimisers: `optim.Adam` (Adam and AdamW) and `optim.clipGradNorm`, with PyTorch's semantics.
 *
 * @example
 * const opt = new optim.Adam(params, { lr: 1e-3 });
 * optim.clipGradNorm(params, 1);
 * opt.step();
 */
import { Adam } from './adam.js';
import { clipGradNorm } from './clip_grad_norm.js';

export type { AdamOptions, AdamParamState, AdamStateDict } from './adam.js';

export const optim = { Adam, clipGradNorm };
