// Fuzzing the safetensors reader (lib/io/safetensors.ts), the parser of every checkpoint and of files a
// user downloads: corpus files mutated byte by byte, and forged files whose header says anything (dtypes,
// shapes, offsets, a header length near 2^64 or past the file). The reader returns or throws a typed
// error; what it accepts is whole (each tensor's bytes are its shape's) and survives a round trip.
import fc from 'fast-check';
import { describe, it } from 'vitest';

import { NodeformerError } from '../../lib/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../../lib/io/safetensors.js';
import { corpus, fuzz, mutatedBytes, TIMEOUT_MS, typedOrOk } from './fuzz.js';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

const dim = fc.oneof(fc.nat(4), fc.constantFrom(-1, 0.5, 2 ** 31, 2 ** 53, 2 ** 64, 1e300, Number.NaN), fc.string({ maxLength: 2 }));
const offset = fc.oneof(fc.nat(64), fc.constantFrom(-8, 1.5, 2 ** 32, 2 ** 53 + 1, 2 ** 64), fc.constant(null));
const entry = fc.record(
  {
    dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I32', 'I64', 'F64', 'U8', 'BOOL', 'F8_E4M3', ''), fc.anything({ maxDepth: 1 })),
    shape: fc.oneof(fc.array(dim, { maxLength: 4 }), fc.anything({ maxDepth: 1 })),
    data_offsets: fc.oneof(fc.tuple(offset, offset), fc.array(offset, { maxLength: 3 }), fc.anything({ maxDepth: 1 })),
  },
  { requiredKeys: [] },
);
/** A file whose header is any dictionary of such entries (and maybe metadata), whose length field may lie. */
const forged = fc
  .record({
    entries: fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.constant('__metadata__')), fc.oneof(entry, fc.anything({ maxDepth: 2 })), { maxKeys: 4 }),
    lengthDelta: fc.oneof(fc.constant(0n), fc.bigInt({ min: -16n, max: 16n }), fc.constantFrom(2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, 100_000_001n)),
    data: fc.uint8Array({ maxLength: 80 }),
  })
  .map(({ entries, lengthDelta, data }) => {
    const header = json(entries);
    const out = new Uint8Array(8 + header.length + data.length);
    const declared = (BigInt(header.length) + lengthDelta) & (2n ** 64n - 1n);
    new DataView(out.buffer).setBigUint64(0, declared < 0n ? 0n : declared, true);
    out.set(header, 8);
    out.set(data, 8 + header.length);
    return out;
  });

function check(bytes: Uint8Array): void {
  const r = typedOrOk(() => decodeSafetensors(bytes));
  if (r instanceof NodeformerError) return;
  for (const [name, t] of r.tensors) {
    const elements = t.shape.reduce((p, d) => p * d, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || t.size !== elements) {
      throw new Error(`accepted ${name} with shape [${t.shape}] and ${t.size} elements`);
    }
  }
  // What was accepted is a file nodeformer can write back and read again, bit for bit.
  const again = decodeSafetensors(encodeSafetensors(r.tensors, r.metadata));
  for (const [name, t] of r.tensors) {
    const u = again.tensors.get(name);
    const bits = (x: typeof t) => new Uint8Array(x.dtype === 'int32' ? x.toInt32Array().buffer : x.toFloat32Array().buffer);
    if (u === undefined || u.dtype !== t.dtype || `${u.shape}` !== `${t.shape}` || Buffer.compare(bits(u), bits(t)) !== 0) {
      throw new Error(`${name} does not survive a round trip`);
    }
  }
}

describe('fuzz: safetensors reader', () => {
  it('returns whole tensors or throws a typed error, for mutated and forged files', async () => {
    const seeds = [...corpus('safetensors').values()];
    await fuzz('safetensors', fc.oneof(mutatedBytes(seeds, 160), forged), check, { fromBytes: (b) => b, toBytes: (b) => b });
  }, TIMEOUT_MS);
});
