/**
 * Module: the base of every layer. A module owns named parameters (tensors that require grad), buffers
 * (state saved with the model but not trained, like the positional table) and child modules, and its
 * names nest with dots like PyTorch's (`encoder.layers.0.selfAttn.inProjWeight`).
 *
 * `loadStateDict` checks every name, shape and dtype before it copies anything, so a failed load leaves
 * the model as it was; it copies into the existing tensors, so optimisers holding them stay valid.
 *
 * @example
 * class Scale extends Module {
 *   readonly weight = this.registerParameter('weight', ones([4]));
 *   forward(x: Tensor): Tensor { return x.mul(this.weight); }
 * }
 */
import { checkBoolean, checkOptions, checkShapeIs, describe, quoteList } from '../check.js';
import { InvalidArgumentError } from '../errors.js';
import type { Device } from '../backend.js';
import { assign, cpuData, data, moveTo, shareStorage, Tensor } from '../tensor/tensor.js';

export interface LoadStateDictOptions {
  /** Every parameter and buffer must be present and no unknown name may appear (default true). */
  strict?: boolean;
}

export abstract class Module {
  /** Training mode (dropout active); see {@link train} and {@link eval}. */
  training = true;
  readonly #parameters = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /**
   * Registers `t` as a trainable parameter called `name` (it is made to require grad) and returns it.
   * CPU storage moves into shared memory, so that a decoding worker reads the weights without a copy.
   */
  protected registerParameter(name: string, t: Tensor): Tensor {
    this.#checkFree(name);
    data(t, name, 'float32');
    if (t.device === 'cpu') shareStorage(t);
    t.requiresGrad = true;
    this.#parameters.set(name, t);
    return t;
  }

  /** Replaces a registered parameter by another tensor of the same shape (weight tying). */
  protected replaceParameter(name: string, t: Tensor): void {
    const old = this.#parameters.get(name);
    if (old === undefined) throw new InvalidArgumentError(`No parameter '${name}' to replace`);
    checkShapeIs(t.shape, old.shape, `the tensor replacing '${name}'`);
    this.#parameters.set(name, t);
  }

  /** Registers a tensor saved with the model but not trained (in shared memory on the CPU, as parameters). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this.#checkFree(name);
    if (t.device === 'cpu' && t.dtype === 'float32') shareStorage(t);
    this.#buffers.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#checkFree(name);
    this.#children.set(name, m);
    return m;
  }

  #checkFree(name: string): void {
    if (this.#parameters.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new InvalidArgumentError(`'${name}' is already registered in ${this.constructor.name}`);
    }
  }

  /** Every (name, parameter) pair, depth first in registration order; a tied tensor appears once. */
  namedParameters(): Array<[string, Tensor]> {
    const seen = new Set<Tensor>();
    return this.#walk('parameters').filter(([, t]) => !seen.has(t) && seen.add(t));
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Parameters and buffers by name (tied tensors under each of their names), sharing storage with the model. */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.#walk('parameters'), ...this.#walk('buffers')]);
  }

  #walk(kind: 'parameters' | 'buffers', prefix = ''): Array<[string, Tensor]> {
    const own = kind === 'parameters' ? this.#parameters : this.#buffers;
    const out: Array<[string, Tensor]> = [...own].map(([n, t]) => [prefix + n, t]);
    for (const [n, child] of this.#children) out.push(...child.#walk(kind, `${prefix}${n}.`));
    return out;
  }

  /** The modules below this one with their dotted names, depth first. */
  namedModules(prefix = ''): Array<[string, Module]> {
    const out: Array<[string, Module]> = [];
    for (const [n, child] of this.#children) out.push([prefix + n, child], ...child.namedModules(`${prefix}${n}.`));
    return out;
  }

  /**
   * Copies the tensors of `state` into this module's parameters and buffers, by name. Everything is
   * checked first (names, shapes, dtypes), so on any error nothing has changed.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, opts?: LoadStateDictOptions): void {
    const o = checkOptions<LoadStateDictOptions>(opts, 'options', ['strict']);
    const strict = o.strict === undefined ? true : checkBoolean(o.strict, 'options.strict');
    if (!(state instanceof Map) && (state === null || typeof state !== 'object')) fail(state);
    const entries = state instanceof Map ? [...state] : Object.entries(state);
    const own = this.stateDict();
    const copies: Array<[Tensor, Tensor]> = [];
    for (const [name, t] of entries) {
      const target = own.get(name);
      if (target === undefined) {
        if (strict) throw new InvalidArgumentError(`Unexpected '${name}' in the state dict: ${this.constructor.name} has no such parameter or buffer`);
        continue;
      }
      if (!(t instanceof Tensor)) throw new InvalidArgumentError(`Expected a Tensor for state '${name}' but received ${describe(t)}`);
      if (t.dtype !== target.dtype) throw new InvalidArgumentError(`Expected a ${target.dtype} tensor for '${name}' but received ${t.dtype}`);
      checkShapeIs(t.shape, target.shape, `'${name}' in the state dict`);
      data(t, name, 'float32');
      copies.push([target, t]);
    }
    if (strict) {
      const given = new Set(entries.map(([n]) => n));
      const missing = [...own.keys()].filter((n) => !given.has(n));
      if (missing.length > 0) {
        throw new InvalidArgumentError(`Missing from the state dict: ${quoteList(missing, 5)}`);
      }
    }
    for (const [target, t] of copies) assign(target, t.device === 'cpu' ? cpuData(t, 'source', 'float32') : t.toFloat32Array());
  }

  /**
   * Moves every parameter and buffer (and gradient) to `device` in place and returns this, like PyTorch's
   * `module.to(device)`. Tensors keep their identity, so tied weights stay tied; create the optimiser
   * after moving (its moments live on the device of the parameters when it first steps).
   *
   * @example
   * const model = new Transformer(config).to('cuda');
   * const adam = new optim.Adam(model.parameters());
   */
  to(device: Device): this {
    const all = new Set([...this.#walk('parameters'), ...this.#walk('buffers')].map(([, t]) => t));
    for (const t of all) moveTo(t, device);
    return this;
  }

  /** The device of the first parameter (or buffer); 'cpu' for a module with neither. */
  get device(): Device {
    return ([...this.#walk('parameters'), ...this.#walk('buffers')][0]?.[1].device) ?? 'cpu';
  }

  /** Sets training mode on this module and every child (dropout on); returns this. */
  train(mode = true): this {
    checkBoolean(mode, 'mode');
    this.training = mode;
    for (const child of this.#children.values()) child.train(mode);
    return this;
  }

  /** Inference mode (dropout off); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
}

function fail(state: unknown): never {
  throw new InvalidArgumentError(`Expected a Map or an object of Tensors for state but received ${describe(state)}`);
}

/** An ordered list of modules, named '0', '1', … (PyTorch's nn.ModuleList). */
export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];

  constructor(items: M[]) {
    super();
    items.forEach((m, i) => this.registerModule(String(i), m));
    this.items = items;
  }
}
