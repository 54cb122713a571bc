/**
 * The binary half of the checkpoint's tensor files (optimizer.bin,
 * train-weights.bin): float32 arrays laid end to end, their sizes kept in the
 * JSON header beside it.
 */

/** The arrays laid end to end as float32 bytes. */
export function packFloat32(arrays: readonly Float32Array[]): Uint8Array {
  const out = new Float32Array(arrays.reduce((s, a) => s + a.length, 0));
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  return new Uint8Array(out.buffer);
}

/** Splits `bin` into arrays of `sizes` elements; `where` names the file in the size error. */
export function unpackFloat32(
  bin: Uint8Array,
  sizes: readonly number[],
  where: string,
): Float32Array[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (bin.byteLength !== total * 4)
    throw new Error(`${where}: ${bin.byteLength} bytes, the header needs ${total * 4}`);
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  let off = 0;
  return sizes.map((n) => {
    const a = all.slice(off, off + n);
    off += n;
    return a;
  });
}
