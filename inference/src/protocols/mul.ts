import type { PartyContext } from "../context";
import type { AShare } from "../sharing/arith";
import { reshareA } from "./reshare";

/**
 * Element-wise product of two arithmetic shares (paper 2.3):
 * z_i = x_i y_i + x_i y_{i+1} + x_{i+1} y_i + zero_i, then reshare.
 * Cost: 1 round; each party sends 4n bytes.
 */
export async function mulA(ctx: PartyContext, x: AShare, y: AShare): Promise<AShare> {
  if (x.n !== y.n) throw new Error(`mulA: lengths differ (${x.n} vs ${y.n})`);
  const z = ctx.rand.zeroShare(x.n);
  for (let i = 0; i < x.n; i++) {
    z[i] += Math.imul(x.s0[i], y.s0[i] + y.s1[i]) + Math.imul(x.s1[i], y.s0[i]);
  }
  return reshareA(ctx, z);
}
