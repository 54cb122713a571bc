import type { PartyContext } from "../context";
import { lastWordMask, packBits, unpackBits, wordsFor } from "../ring/bits";

/**
 * Replicated boolean share of `bits` bits, packed 32 per word: b = c0 ^ c1 ^ c2,
 * party P_i holds s0 = c_i and s1 = c_{i+1}. All operations here are local.
 * Bits past `bits` in the last word carry no meaning.
 */
export interface BShare {
  readonly bits: number;
  readonly s0: Uint32Array;
  readonly s1: Uint32Array;
}

export function bShare(bits: number, s0: Uint32Array, s1: Uint32Array): BShare {
  const w = wordsFor(bits);
  if (s0.length !== w || s1.length !== w) {
    throw new Error(`BShare: ${bits} bits need ${w} words, got ${s0.length} and ${s1.length}`);
  }
  return { bits, s0, s1 };
}

export function bXor(x: BShare, y: BShare): BShare {
  if (x.bits !== y.bits) throw new Error(`bXor: lengths differ (${x.bits} vs ${y.bits})`);
  const w = x.s0.length;
  const s0 = new Uint32Array(w);
  const s1 = new Uint32Array(w);
  for (let i = 0; i < w; i++) {
    s0[i] = x.s0[i] ^ y.s0[i];
    s1[i] = x.s1[i] ^ y.s1[i];
  }
  return { bits: x.bits, s0, s1 };
}

/** x ^ c for public packed bits c: applied to component c_0 (P0's s0, P2's s1). */
export function bXorConst(ctx: PartyContext, x: BShare, c: Uint32Array): BShare {
  const s0 = x.s0.slice();
  const s1 = x.s1.slice();
  const target = ctx.id === 0 ? s0 : ctx.id === 2 ? s1 : null;
  if (target) for (let i = 0; i < target.length; i++) target[i] ^= c[i];
  return { bits: x.bits, s0, s1 };
}

/** NOT of every bit (XOR with all ones, padding bits kept at 0). */
export function bNot(ctx: PartyContext, x: BShare): BShare {
  const ones = new Uint32Array(x.s0.length).fill(0xffffffff);
  if (ones.length > 0) ones[ones.length - 1] = lastWordMask(x.bits);
  return bXorConst(ctx, x, ones);
}

/** Bits [start, start + n) of a share, re-packed from bit 0. */
export function bSlice(x: BShare, start: number, n: number): BShare {
  if ((start & 31) === 0) {
    const w = wordsFor(n);
    const s0 = x.s0.slice(start >>> 5, (start >>> 5) + w);
    const s1 = x.s1.slice(start >>> 5, (start >>> 5) + w);
    if (w > 0) {
      s0[w - 1] &= lastWordMask(n);
      s1[w - 1] &= lastWordMask(n);
    }
    return { bits: n, s0, s1 };
  }
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = start + i;
  return bGather(x, idx);
}

/** Gathers bits by index (public re-indexing). */
export function bGather(x: BShare, idx: ArrayLike<number>): BShare {
  const a = unpackBits(x.s0, x.bits);
  const b = unpackBits(x.s1, x.bits);
  const ga = new Uint8Array(idx.length);
  const gb = new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    ga[i] = a[idx[i]];
    gb[i] = b[idx[i]];
  }
  return { bits: idx.length, s0: packBits(ga), s1: packBits(gb) };
}

/** Concatenation, bit-exact (each part starts right after the previous one). */
export function bConcat(parts: readonly BShare[]): BShare {
  let n = 0;
  for (const p of parts) n += p.bits;
  const a = new Uint8Array(n);
  const b = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    a.set(unpackBits(p.s0, p.bits), o);
    b.set(unpackBits(p.s1, p.bits), o);
    o += p.bits;
  }
  return { bits: n, s0: packBits(a), s1: packBits(b) };
}
