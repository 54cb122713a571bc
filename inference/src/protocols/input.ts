import type { PartyContext } from "../context";
import { wordsFor } from "../ring/bits";
import type { AShare } from "../sharing/arith";
import type { BShare } from "../sharing/bool";
import type { PartyId } from "../transport/types";

/**
 * Share input (owner P_o -> replicated sharing) at one ring element per value.
 * With r from the seed P_o shares with P_{o+1}: x_{o+1} = r, x_{o+2} = 0,
 * x_o = X - r, and P_o sends x_o to P_{o-1} (who holds (x_{o-1}, x_o)).
 * P_{o+1} sees only r (independent of X); P_{o-1} sees X - r, uniform because r
 * is unknown to it.
 * Cost: 1 round; the owner sends 4n bytes to its prev, the others send nothing.
 * `values` is read at the owner only (pass null elsewhere).
 */
export async function shareInput(
  ctx: PartyContext,
  owner: PartyId,
  values: Uint32Array | null,
  n: number,
): Promise<AShare> {
  const pos = ctx.offsetFrom(owner);
  if (pos === 0) {
    if (!values || values.length !== n) {
      throw new Error(
        `party ${ctx.id}: shareInput needs ${n} input values, got ${values ? values.length : "none"}`,
      );
    }
    const r = ctx.rand.common(ctx.next, n);
    const x0 = new Uint32Array(n);
    for (let i = 0; i < n; i++) x0[i] = values[i] - r[i];
    ctx.sendU32(ctx.prev, x0);
    return { n, s0: x0, s1: r };
  }
  if (pos === 1) {
    const r = ctx.rand.common(ctx.prev, n);
    return { n, s0: r, s1: new Uint32Array(n) };
  }
  const x0 = await ctx.recvU32(owner, n, "input share");
  return { n, s0: new Uint32Array(n), s1: x0 };
}

/**
 * Boolean share input of `bits` packed bits (same scheme with XOR).
 * Cost: 1 round; the owner sends 4*ceil(bits/32) bytes to its prev.
 */
export async function shareInputB(
  ctx: PartyContext,
  owner: PartyId,
  words: Uint32Array | null,
  bits: number,
): Promise<BShare> {
  const w = wordsFor(bits);
  const pos = ctx.offsetFrom(owner);
  if (pos === 0) {
    if (!words || words.length !== w)
      throw new Error(`party ${ctx.id}: shareInputB needs ${w} words`);
    const r = ctx.rand.common(ctx.next, w);
    const c0 = new Uint32Array(w);
    for (let i = 0; i < w; i++) c0[i] = words[i] ^ r[i];
    ctx.sendU32(ctx.prev, c0);
    return { bits, s0: c0, s1: r };
  }
  if (pos === 1) return { bits, s0: ctx.rand.common(ctx.prev, w), s1: new Uint32Array(w) };
  const c0 = await ctx.recvU32(owner, w, "boolean input share");
  return { bits, s0: new Uint32Array(w), s1: c0 };
}
