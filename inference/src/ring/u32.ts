/**
 * Element-wise helpers for Z_2^32 on Uint32Array (values read as two's
 * complement int32 where a sign matters). All results wrap mod 2^32.
 */

export function addU32(
  a: Uint32Array,
  b: Uint32Array,
  out = new Uint32Array(a.length),
): Uint32Array {
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

export function subU32(
  a: Uint32Array,
  b: Uint32Array,
  out = new Uint32Array(a.length),
): Uint32Array {
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

export function negU32(a: Uint32Array, out = new Uint32Array(a.length)): Uint32Array {
  for (let i = 0; i < a.length; i++) out[i] = -a[i];
  return out;
}

/** out = a * c (mod 2^32) for a public scalar c (any JS integer, taken mod 2^32). */
export function mulConstU32(
  a: Uint32Array,
  c: number,
  out = new Uint32Array(a.length),
): Uint32Array {
  const k = c | 0;
  for (let i = 0; i < a.length; i++) out[i] = Math.imul(a[i], k);
  return out;
}

/** out = a + c (mod 2^32) for a public scalar c. */
export function addConstU32(
  a: Uint32Array,
  c: number,
  out = new Uint32Array(a.length),
): Uint32Array {
  const k = c | 0;
  for (let i = 0; i < a.length; i++) out[i] = a[i] + k;
  return out;
}

/** The ring view of int32 values (same bits). */
export function fromInt32(a: Int32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** Two's-complement reading of ring values. */
export function toInt32(a: Uint32Array): Int32Array {
  return new Int32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** Little-endian byte view (no copy) of a Uint32Array, for the wire. */
export function u32ToBytes(a: Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Copies bytes from the wire into a Uint32Array; `expected` words checked when given. */
export function bytesToU32(b: Uint8Array, expected?: number, what = "message"): Uint32Array {
  if (b.byteLength % 4 !== 0)
    throw new Error(`${what}: ${b.byteLength} bytes is not a whole number of u32 words`);
  if (expected !== undefined && b.byteLength !== expected * 4) {
    throw new Error(`${what}: expected ${expected} u32 words, got ${b.byteLength / 4}`);
  }
  const out = new Uint32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** Concatenation of several Uint32Arrays. */
export function concatU32(parts: readonly Uint32Array[]): Uint32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
