import type { PartyContext } from "../context";
import type { AShare } from "../sharing/arith";
import type { BShare } from "../sharing/bool";

/**
 * Reshare (paper 2.3): turns a 3-of-3 additive sharing z = z0 + z1 + z2 (each
 * party's z_i already masked with a fresh zero share) into a replicated one:
 * P_i sends z_i to P_{i-1} and receives z_{i+1} from P_{i+1}.
 * Cost: 1 round; each party sends 4n bytes (one message, to prev).
 */
export async function reshareA(ctx: PartyContext, z: Uint32Array): Promise<AShare> {
  ctx.sendU32(ctx.prev, z);
  const zNext = await ctx.recvU32(ctx.next, z.length, "reshare");
  return { n: z.length, s0: z, s1: zNext };
}

/**
 * Boolean reshare of a 3-of-3 XOR sharing of `bits` packed bits.
 * Cost: 1 round; each party sends 4*ceil(bits/32) bytes.
 */
export async function reshareB(ctx: PartyContext, z: Uint32Array, bits: number): Promise<BShare> {
  ctx.sendU32(ctx.prev, z);
  const zNext = await ctx.recvU32(ctx.next, z.length, "boolean reshare");
  return { bits, s0: z, s1: zNext };
}
