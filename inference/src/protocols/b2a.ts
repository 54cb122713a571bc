import type { PartyContext } from "../context";
import type { AShare } from "../sharing/arith";
import type { BShare } from "../sharing/bool";
import { bitTimesValue } from "./bit-times-value";

/**
 * Bit to arithmetic (Secure Sign's conversion, paper Alg. 4), 1 round:
 * b = (c0 ^ c1) ^ c2; P0 knows c0 ^ c1 and is the OT sender with v = 1, P1 and
 * P2 know c2 and both receive (see {@link bitTimesValue}).
 * Cost: 1 round; P0 sends 16n bytes, P1 and P2 4n each (24n in all).
 */
export async function b2a(ctx: PartyContext, x: BShare): Promise<AShare> {
  const n = x.bits;
  if (ctx.id === 0) {
    const a = new Uint32Array(x.s0.length);
    for (let i = 0; i < a.length; i++) a[i] = x.s0[i] ^ x.s1[i];
    return bitTimesValue(ctx, 0, n, a, null, null);
  }
  // c2 is P1's s1 and P2's s0
  return bitTimesValue(ctx, 0, n, null, null, ctx.id === 1 ? x.s1 : x.s0);
}
