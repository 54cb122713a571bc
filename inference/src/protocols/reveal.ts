import type { PartyContext } from "../context";
import type { AShare } from "../sharing/arith";
import type { BShare } from "../sharing/bool";
import type { PartyId } from "../transport/types";

/**
 * Reveal to one party P_t: P_t holds (x_t, x_{t+1}) and misses x_{t+2}, which
 * P_{t+2} (= P_{t-1}) sends it. The other parties learn nothing.
 * Cost: 1 round; P_{t-1} sends 4n bytes to P_t; returns the values at P_t,
 * null elsewhere.
 */
export async function revealTo(
  ctx: PartyContext,
  target: PartyId,
  x: AShare,
): Promise<Uint32Array | null> {
  const pos = ctx.offsetFrom(target);
  if (pos === 2) {
    ctx.sendU32(target, x.s0);
    return null;
  }
  if (pos === 1) return null;
  const missing = await ctx.recvU32(ctx.prev, x.n, "reveal");
  const out = new Uint32Array(x.n);
  for (let i = 0; i < x.n; i++) out[i] = x.s0[i] + x.s1[i] + missing[i];
  return out;
}

/**
 * Reveal to all: P_i sends x_i to P_{i+1} (who misses it).
 * Cost: 1 round; each party sends 4n bytes.
 */
export async function revealAll(ctx: PartyContext, x: AShare): Promise<Uint32Array> {
  ctx.sendU32(ctx.next, x.s0);
  const missing = await ctx.recvU32(ctx.prev, x.n, "reveal");
  const out = new Uint32Array(x.n);
  for (let i = 0; i < x.n; i++) out[i] = x.s0[i] + x.s1[i] + missing[i];
  return out;
}

/**
 * Boolean reveal to all (packed). Cost: 1 round; each party sends
 * 4*ceil(bits/32) bytes.
 */
export async function revealAllB(ctx: PartyContext, x: BShare): Promise<Uint32Array> {
  ctx.sendU32(ctx.next, x.s0);
  const missing = await ctx.recvU32(ctx.prev, x.s0.length, "boolean reveal");
  const out = new Uint32Array(x.s0.length);
  for (let i = 0; i < out.length; i++) out[i] = x.s0[i] ^ x.s1[i] ^ missing[i];
  return out;
}
