import type { PartyContext } from "../context";
import { type BShare, bNot } from "../sharing/bool";
import { reshareB } from "./reshare";

/**
 * Bit-wise AND of two boolean shares (packed), all bits in one round:
 * z_i = x_i y_i ^ x_i y_{i+1} ^ x_{i+1} y_i ^ zero_i, then reshare.
 * Cost: 1 round; each party sends 4*ceil(bits/32) bytes.
 * Security: z_i is masked by the 3-of-3 zero share, so the value P_{i-1}
 * receives is uniform given its view.
 */
export async function andB(ctx: PartyContext, x: BShare, y: BShare): Promise<BShare> {
  if (x.bits !== y.bits) throw new Error(`andB: lengths differ (${x.bits} vs ${y.bits})`);
  const w = x.s0.length;
  const z = ctx.rand.zeroShareBool(w);
  for (let i = 0; i < w; i++) {
    z[i] ^= (x.s0[i] & y.s0[i]) ^ (x.s0[i] & y.s1[i]) ^ (x.s1[i] & y.s0[i]);
  }
  return reshareB(ctx, z, x.bits);
}

/** Bit-wise OR: a | b = NOT(NOT a AND NOT b), same cost as {@link andB}. */
export async function orB(ctx: PartyContext, x: BShare, y: BShare): Promise<BShare> {
  return bNot(ctx, await andB(ctx, bNot(ctx, x), bNot(ctx, y)));
}
