/**
 * The 16-bit float formats of model files, to and from float32, on bit patterns (numbers in [0, 2^16)):
 *
 *   binary16 (F16, IEEE half)   1 sign, 5 exponent (bias 15), 10 mantissa bits: ±65504 at most, subnormals
 *                               down to 2^-24
 *   bfloat16 (BF16)             the top 16 bits of a float32: 1 sign, 8 exponent, 7 mantissa bits
 *
 * Widening is exact (every half and every bfloat16 is a float32). Narrowing rounds to nearest, ties to
 * even, as PyTorch's `.to(torch.float16 / torch.bfloat16)` and the hardware conversions do:
 * - a float32 beyond the format's range after rounding becomes ±Infinity (for F16 that is |x| ≥ 65520,
 *   the midpoint between 65504 and 2^16); below half the smallest subnormal it becomes ±0;
 * - -0 stays -0 and ±Infinity stays ±Infinity;
 * - a NaN stays a NaN, made quiet (the top mantissa bit set), with its sign and the top bits of its payload.
 *
 * Narrowing takes the float32's bits (a Uint32Array view of the data), not a number: reading a number
 * back from a Float32Array is exact, but going through bits keeps NaN payloads and needs no float64
 * rounding step that could round twice.
 */

/** An IEEE binary16 bit pattern as a number (exact: every half is a float32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * The binary16 bit pattern nearest the float32 with bits `f` (ties to even; see the module comment).
 * `f` is read as an unsigned 32-bit number, so a Uint32Array or an Int32Array element will do.
 */
export function float32BitsToHalf(f: number): number {
  f >>>= 0;
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  const mant = f & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13); // ±Infinity, quiet NaN
  const e = exp - 112; // the half's biased exponent: exp − 127 + 15
  if (e >= 0x1f) return sign | 0x7c00; // |x| ≥ 2^16: beyond 65504 whatever the rounding
  if (e <= 0) {
    // A half subnormal (or ±0): m·2^-24 with m = (1.mant)·2^(exp−126), i.e. the 24-bit significand >> (14 − e).
    if (e < -10) return sign; // |x| < 2^-25: below half the smallest subnormal (exactly 2^-25 is a tie, to 0)
    const significand = mant | 0x800000;
    const shift = 14 - e; // 14..24
    const m = significand >>> shift, rest = significand & ((1 << shift) - 1), halfway = 1 << (shift - 1);
    // m + 1 may reach 0x400, the smallest normal: the carry is the right bit pattern.
    return sign | (m + (rest > halfway || (rest === halfway && m & 1) ? 1 : 0));
  }
  const h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa steps the exponent; out of 0x7bff (65504) it gives 0x7c00, Infinity.
  return sign | (h + (rest > 0x1000 || (rest === 0x1000 && h & 1) ? 1 : 0));
}

/** The bfloat16 bit pattern nearest the float32 with bits `f` (as {@link float32BitsToHalf} reads them). */
export function float32BitsToBfloat16(f: number): number {
  f >>>= 0;
  if ((f & 0x7fffffff) > 0x7f800000) return ((f >>> 16) | 0x40) & 0xffff; // NaN: quiet
  // Adding 0x7fff (+1 when the kept low bit is odd) carries into the top half exactly when rounding up;
  // the largest float32s carry into the exponent and give Infinity, as they should. The sum stays below
  // 2^32 (at most 0xff808000, from -Infinity), so >>> is exact.
  return (f + 0x7fff + ((f >>> 16) & 1)) >>> 16;
}

/** float32 data narrowed to binary16 or bfloat16 bit patterns, element by element. */
export function narrowFloat32(data: Float32Array, to: 'F16' | 'BF16'): Uint16Array {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint16Array(data.length);
  const convert = to === 'F16' ? float32BitsToHalf : float32BitsToBfloat16;
  for (let i = 0; i < bits.length; i++) out[i] = convert(bits[i]!);
  return out;
}
