/**
 * Reverse-mode autograd: every differentiable op that runs while gradients are enabled and sees an input
 * with `requiresGrad` hands its output to {@link record} with a backward closure written right under its
 * forward maths (in lib/ops/*). The output then carries a {@link GradFn}: its inputs and that closure.
 * `tensor.backward()` walks those links from the output in reverse topological order, found by an
 * iterative depth-first search (no recursion, so a graph of any depth is fine), and leaves the summed
 * gradient in `.grad` of every leaf that requires one, adding to what is already there (`+=`). The
 * closures run with recording off, so a backward pass builds no graph of its own.
 *
 * Inside `noGrad(fn)` nothing is recorded: inference builds no graph and keeps no saved tensors alive.
 *
 * @example
 * const w = randn([3, 2], { seed: 1, requiresGrad: true });
 * const loss = ops.matmul(x, w).mul(y).sum();
 * loss.backward();               // w.grad is d loss / d w
 * const out = noGrad(() => model.forward(src, tgt));   // no graph
 */
import { checkShapeIs, describe } from '../check.js';
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { native } from '../native/binding.js';
import { add } from '../ops/add.js';
import { cloneData, data, deviceOf, onDevice, Tensor } from '../tensor/tensor.js';

/** How an op's output was made: its inputs and the map from the output's gradient to theirs. */
export interface GradFn {
  /** The op's name, for debugging (shown by `inspect`). */
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /**
   * The gradient of each input (null where none is needed) given the output's gradient `g`. The result
   * may alias `g` or share one tensor between inputs: the tape never writes into what a closure returns.
   */
  readonly backward: (g: Tensor) => readonly (Tensor | null)[];
}

let enabled = true;

/** Whether ops record a graph right now (false inside {@link noGrad}). */
export function isGradEnabled(): boolean {
  return enabled;
}

/**
 * Runs `fn` with gradient recording off and returns its result. `fn` must be synchronous: a scope cannot
 * follow an `await`, so an async function is refused rather than silently recorded after its first await.
 */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new InvalidArgumentError(`Expected a function for fn but received ${describe(fn)}`);
  const previous = enabled;
  enabled = false;
  let result: T;
  try {
    result = fn();
  } finally {
    enabled = previous;
  }
  if (result instanceof Promise) {
    throw new InvalidArgumentError('Expected a synchronous function for noGrad(fn) but it returned a Promise; call noGrad inside the async code instead');
  }
  return result;
}

/**
 * Links `out` to its inputs when gradients are enabled and some input requires one; returns `out`. Ops call
 * this after computing `out`, passing the closure that maps ∂L/∂out to ∂L/∂inputs.
 */
export function record(out: Tensor, inputs: readonly Tensor[], backward: GradFn['backward'], name: string): Tensor {
  if (!enabled || !inputs.some((t) => t.requiresGrad)) return out;
  out.requiresGrad = true;
  out.gradFn = { name, inputs, backward };
  return out;
}

/** The tensors reachable from `root` through tensors that require grad, inputs before their outputs. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: { t: Tensor; next: number }[] = [{ t: root, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const inputs = top.t.gradFn?.inputs ?? [];
    if (top.next < inputs.length) {
      const u = inputs[top.next++]!;
      if (u.requiresGrad && !seen.has(u)) {
        seen.add(u);
        stack.push({ t: u, next: 0 });
      }
    } else {
      stack.pop();
      order.push(top.t);
    }
  }
  return order;
}

/** Backpropagates from `root` (see the module comment); `gradient` defaults to 1 for a one-element root. */
export function backward(root: Tensor, gradient?: Tensor): void {
  if (!root.requiresGrad) {
    throw new InvalidArgumentError(
      `backward() needs a tensor that requires grad, but ${root} does not: no input of its computation had requiresGrad (or it ran inside noGrad)`,
    );
  }
  let g: Tensor;
  if (gradient === undefined) {
    if (root.size !== 1) {
      throw new ShapeError(`backward() without a gradient needs a one-element tensor, but ${root} has ${root.size}; pass the output's gradient`);
    }
    g = new Tensor(onDevice(Float32Array.of(1), root.device), root.shape);
  } else {
    data(gradient, 'gradient', 'float32');
    checkShapeIs(gradient.shape, root.shape, 'gradient', 'the output');
    deviceOf('backward', { output: root, gradient });
    g = gradient;
  }
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, g]]);
  // The closures run with recording off: a backward pass builds no graph of its own.
  const previous = enabled;
  enabled = false;
  try {
    propagate(order, grads);
  } finally {
    enabled = previous;
  }
}

/** Visits `order` from the output back, handing each tensor's summed gradient to its op's closure. */
function propagate(order: Tensor[], grads: Map<Tensor, Tensor>): void {
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    const gt = grads.get(t);
    grads.delete(t);
    if (gt === undefined) continue;
    const fn = t.gradFn;
    if (fn === null) {
      accumulateLeaf(t, gt);
      continue;
    }
    const gs = fn.backward(gt);
    fn.inputs.forEach((u, j) => {
      const gu = gs[j];
      if (!u.requiresGrad || gu === null || gu === undefined) return;
      const prev = grads.get(u);
      grads.set(u, prev === undefined ? gu : add(prev, gu));
    });
  }
}

// A leaf's first gradient is a copy: what a closure returns may share storage with other gradients, views
// or the caller's `gradient`, and `.grad` is later accumulated in place.
function accumulateLeaf(t: Tensor, g: Tensor): void {
  if (t.grad === null) {
    t.grad = new Tensor(cloneData(data(g, 'gradient', 'float32')), t.shape);
    return;
  }
  const acc = data(t.grad, 'grad', 'float32');
  native().addForward(acc, acc, data(g, 'gradient', 'float32'), acc.length);
}
