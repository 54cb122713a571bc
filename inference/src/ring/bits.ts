/**
 * Bit packing: bit j of a packed vector is bit (j & 31) of word (j >>> 5).
 * Bits past the length in the last word are kept at 0 by the packers; local
 * boolean ops may set them (e.g. NOT), and the unpackers ignore them.
 *
 * Bit-sliced layout ("planes") for n 32-bit values: plane k (k = 0 is the
 * least significant bit) holds bit k of every value, packed; the 32 planes lie
 * one after the other, each `wordsFor(n)` words long.
 */

export function wordsFor(bits: number): number {
  return (bits + 31) >>> 5;
}

/** Packs values (only their lowest bit is read) into words. */
export function packBits(
  values: ArrayLike<number>,
  out = new Uint32Array(wordsFor(values.length)),
): Uint32Array {
  out.fill(0);
  for (let j = 0; j < values.length; j++) out[j >>> 5] |= (values[j] & 1) << (j & 31);
  return out;
}

/** Unpacks `n` bits into a Uint8Array of 0/1. */
export function unpackBits(words: Uint32Array, n: number, out = new Uint8Array(n)): Uint8Array {
  for (let j = 0; j < n; j++) out[j] = (words[j >>> 5] >>> (j & 31)) & 1;
  return out;
}

/** Bit j of a packed vector. */
export function getBit(words: Uint32Array, j: number): number {
  return (words[j >>> 5] >>> (j & 31)) & 1;
}

/** The 32 bit planes of n values (see the layout above). */
export function toBitPlanes(values: Uint32Array, n = values.length): Uint32Array {
  const w = wordsFor(n);
  const out = new Uint32Array(32 * w);
  for (let j = 0; j < n; j++) {
    let v = values[j];
    const word = j >>> 5;
    const bit = 1 << (j & 31);
    for (let k = 0; v !== 0 && k < 32; k++, v >>>= 1) {
      if (v & 1) out[k * w + word] |= bit;
    }
  }
  return out;
}

/** Inverse of {@link toBitPlanes}. */
export function fromBitPlanes(planes: Uint32Array, n: number): Uint32Array {
  const w = wordsFor(n);
  if (planes.length < 32 * w)
    throw new RangeError(`fromBitPlanes: need ${32 * w} words, got ${planes.length}`);
  const out = new Uint32Array(n);
  for (let k = 0; k < 32; k++) {
    for (let j = 0; j < n; j++) out[j] |= ((planes[k * w + (j >>> 5)] >>> (j & 31)) & 1) << k;
  }
  return out;
}

/** Mask of the valid bits in the last word of an n-bit vector. */
export function lastWordMask(n: number): number {
  const r = n & 31;
  return r === 0 ? 0xffffffff : (1 << r) - 1;
}
