/** Parsers of numeric flags for commander: a bad value is a one-line error naming the flag. */
import { InvalidArgumentError } from 'commander';

export function integer(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`} for ${flag}`);
    }
    return n;
  };
}

export function number(flag: string, min: number, max = Infinity): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number ${max === Infinity ? `≥ ${min}` : `in [${min}, ${max}]`} for ${flag}`);
    }
    return n;
  };
}
