/**
 * The parameter-list check the optimisers share: an array of distinct Tensors, since a tensor listed
 * twice would be stepped, or counted and clipped, twice.
 *
 * @example
 * const list = checkParamList(params, 'params');
 */
import { fail } from '../check.js';
import { InvalidArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';

export function checkParamList(params: unknown, name: string): Tensor[] {
  if (!Array.isArray(params)) fail('an array of Tensors', name, params);
  const seen = new Map<Tensor, number>();
  params.forEach((p: unknown, i) => {
    if (!(p instanceof Tensor)) fail('a Tensor', `${name}[${i}]`, p);
    const first = seen.get(p);
    if (first !== undefined) {
      throw new InvalidArgumentError(`Expected distinct tensors in ${name} but ${name}[${i}] is ${name}[${first}]`);
    }
    seen.set(p, i);
  });
  return params as Tensor[];
}
