/**
 * Validation vocabulary: every public function checks its arguments with these before anything reaches
 * native code, and every message has one shape: "Expected X for NAME but received Y".
 */
import { InvalidArgumentError, ShapeError } from './errors.js';

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'boolean') return `${value}`;
  if (typeof value === 'bigint') return `the bigint ${value}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'function') return 'a function';
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** Names quoted and comma-separated for a message, the first `max` of them and a count of the rest. */
export function quoteList(names: readonly string[], max = Infinity): string {
  const shown = names.slice(0, max).map((n) => `'${n}'`).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

export function fail(expected: string, name: string, value: unknown): never {
  throw new InvalidArgumentError(`Expected ${expected} for ${name} but received ${describe(value)}`);
}

export function checkInteger(value: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`;
    fail(`an integer ${range}`, name, value);
  }
  return value;
}

/**
 * A finite number in [min, max], or [min, max) when `maxOpen`; the default range is every finite number.
 */
export function checkNumber(
  value: unknown, name: string, min = -Number.MAX_VALUE, max = Number.MAX_VALUE, maxOpen = false,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (maxOpen && value === max)) {
    const hi = max === Infinity ? '∞)' : `${max}${maxOpen ? ')' : ']'}`;
    fail(min === -Number.MAX_VALUE && max === Number.MAX_VALUE ? 'a finite number' : `a number in [${min}, ${hi}`, name, value);
  }
  return value;
}

export function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') fail('a boolean', name, value);
  return value;
}

export function checkFunction(value: unknown, name: string): (...args: never[]) => unknown {
  if (typeof value !== 'function') fail('a function', name, value);
  return value as (...args: never[]) => unknown;
}

export function checkOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(`one of ${quoteList(allowed)}`, name, value);
  }
  return value as T;
}

/** Options must be an object (or undefined) with only known keys: a misspelt option is an error, not a no-op. */
export function checkOptions<T extends object>(value: unknown, name: string, known: readonly string[]): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('an options object', name, value);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(
        `Unknown option '${key}' in ${name}; known options are ${quoteList(known)}`,
      );
    }
  }
  return value as Partial<T>;
}

/** A shape: an array of non-negative safe integers. Returns a frozen copy and its element count. */
export function checkShape(shape: unknown, name = 'shape'): { shape: readonly number[]; size: number } {
  if (!Array.isArray(shape)) fail('an array of non-negative integers', name, shape);
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new ShapeError(`Expected a non-negative integer for ${name}[${i}] but received ${describe(d)}`);
    }
    size *= d;
  }
  if (!Number.isSafeInteger(size)) throw new ShapeError(`The shape [${shape.join(', ')}] of ${name} has too many elements`);
  return { shape: Object.freeze(shape.slice() as number[]), size };
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws a ShapeError unless `actual` is exactly `expected` (the shape of `of`, when named). */
export function checkShapeIs(actual: readonly number[], expected: readonly number[], name: string, of?: string): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new ShapeError(
      of === undefined
        ? `Expected shape ${formatShape(expected)} for ${name} but received ${formatShape(actual)}`
        : `Expected ${name} to have the shape ${formatShape(expected)} of ${of} but received ${formatShape(actual)}`,
    );
  }
}

/**
 * The rows (leading dims flattened) and the width (last dim) of a row-wise op's input `shape`, which must
 * have a non-empty last dimension.
 */
export function rowsOf(shape: readonly number[], name: string): { n: number; c: number } {
  const c = shape[shape.length - 1];
  if (c === undefined || c === 0) {
    throw new ShapeError(`Expected a tensor with a non-empty last dimension for ${name} but received ${formatShape(shape)}`);
  }
  return { n: shape.slice(0, -1).reduce((a, b) => a * b, 1), c };
}
