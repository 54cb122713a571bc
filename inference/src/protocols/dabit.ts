import type { PartyContext } from "../context";
import { getBit, wordsFor } from "../ring/bits";
import { type AShare, aAddConst } from "../sharing/arith";
import { type BShare, bXorConst } from "../sharing/bool";
import { b2a } from "./b2a";

/**
 * Random bits rho known to no single party, held both as boolean and as ring
 * shares ("daBits"). Input independent: made in the setup phase.
 */
export interface DaBits {
  readonly n: number;
  readonly bits: BShare;
  readonly arith: AShare;
}

/**
 * Makes n daBits: rho from 2-of-3 randomness (each party misses one XOR
 * component, so rho is uniform to it), its ring form by {@link b2a}.
 * Cost (setup): 1 round; P0 sends 16n bytes, P1 and P2 4n each.
 */
export async function makeDaBits(ctx: PartyContext, n: number): Promise<DaBits> {
  const w = wordsFor(n);
  const [c0, c1] = ctx.rand.random2of3(w);
  const bits: BShare = { bits: n, s0: c0, s1: c1 };
  return { n, bits, arith: await b2a(ctx, bits) };
}

/**
 * Given the public packed bits e = b ^ rho, the shares of b: boolean
 * e ^ [rho] and ring e + [rho] - 2 e [rho] (= e ? 1 - rho : rho). Local.
 */
export function unmaskDaBits(
  ctx: PartyContext,
  e: Uint32Array,
  d: DaBits,
): { bits: BShare; arith: AShare } {
  const n = d.n;
  const s0 = new Uint32Array(n);
  const s1 = new Uint32Array(n);
  const pub = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const f = getBit(e, i);
    s0[i] = f ? -d.arith.s0[i] : d.arith.s0[i];
    s1[i] = f ? -d.arith.s1[i] : d.arith.s1[i];
    pub[i] = f;
  }
  return { bits: bXorConst(ctx, d.bits, e), arith: aAddConst(ctx, { n, s0, s1 }, pub) };
}

/**
 * Bit to arithmetic with a prepared daBit per value: reveal e = b ^ rho to
 * all (P_i sends its component c_i ^ rho_i to P_{i+1}), then
 * {@link unmaskDaBits}. Cost (online): 1 round; each party sends
 * 4 ceil(n/32) bytes (the OT-based {@link b2a}: 24n bytes in all).
 * Security: e is uniform to every party because rho is (each misses one
 * component of rho); a daBit is used once.
 */
export async function b2aDaBits(ctx: PartyContext, x: BShare, d: DaBits): Promise<AShare> {
  if (d.n !== x.bits) throw new Error(`b2aDaBits: ${d.n} daBits for ${x.bits} bits`);
  const w = x.s0.length;
  const c = new Uint32Array(w);
  for (let i = 0; i < w; i++) c[i] = x.s0[i] ^ d.bits.s0[i];
  ctx.sendU32(ctx.next, c);
  const missing = await ctx.recvU32(ctx.prev, w, "daBit b2a reveal");
  const e = new Uint32Array(w);
  for (let i = 0; i < w; i++) e[i] = c[i] ^ x.s1[i] ^ d.bits.s1[i] ^ missing[i];
  return unmaskDaBits(ctx, e, d).arith;
}
