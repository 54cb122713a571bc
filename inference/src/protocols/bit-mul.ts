import type { PartyContext } from "../context";
import { type AShare, aAdd } from "../sharing/arith";
import type { BShare } from "../sharing/bool";
import { bitTimesValue } from "./bit-times-value";

/**
 * Bit times arithmetic value, [b * x]^A (Secure ReLU, paper Alg. 5), 1 round.
 * b * x = b (x0 + x1) + b x2, and b = (c0 ^ c1) ^ c2 = (c2 ^ c0) ^ c1:
 * - P0 knows c0 ^ c1 and x0 + x1; choice c2 is known to P1, P2;
 * - P2 knows c2 ^ c0 and x2; choice c1 is known to P0, P1.
 * The two {@link bitTimesValue} calls run in the same round and their outputs add.
 * Cost: 1 round; P0 and P2 send 20n bytes each, P1 8n (48n in all).
 */
export async function bitMul(ctx: PartyContext, b: BShare, x: AShare): Promise<AShare> {
  const n = x.n;
  if (b.bits !== n) throw new Error(`bitMul: ${b.bits} bits for ${n} values`);
  const w = b.s0.length;
  let first: Promise<AShare>;
  let second: Promise<AShare>;
  if (ctx.id === 0) {
    const a = new Uint32Array(w);
    for (let i = 0; i < w; i++) a[i] = b.s0[i] ^ b.s1[i];
    const v = new Uint32Array(n);
    for (let i = 0; i < n; i++) v[i] = x.s0[i] + x.s1[i];
    first = bitTimesValue(ctx, 0, n, a, v, null);
    second = bitTimesValue(ctx, 2, n, null, null, b.s1); // c1 is P0's s1
  } else if (ctx.id === 1) {
    first = bitTimesValue(ctx, 0, n, null, null, b.s1); // c2 is P1's s1
    second = bitTimesValue(ctx, 2, n, null, null, b.s0); // c1 is P1's s0
  } else {
    const a = new Uint32Array(w);
    for (let i = 0; i < w; i++) a[i] = b.s0[i] ^ b.s1[i];
    first = bitTimesValue(ctx, 0, n, null, null, b.s0); // c2 is P2's s0
    second = bitTimesValue(ctx, 2, n, a, x.s0, null); // x2 is P2's s0
  }
  const [u, v] = await Promise.all([first, second]);
  return aAdd(u, v);
}
