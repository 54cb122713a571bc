import type { PartyContext } from "../context";
import { packBits } from "../ring/bits";
import { type AShare, aAdd, aAddConst } from "../sharing/arith";
import { b2a } from "./b2a";
import { otShare } from "./bit-times-value";
import { shareInput } from "./input";
import type { MsbPrep } from "./msb";
import { lowBitsCarry } from "./msb-secure";

/**
 * Truncation x -> x >> d (arithmetic shift) for |x| < 2^30, 1 round, with no
 * large errors (unlike SecureML/ABY3 local truncation, which in a 32-bit ring
 * is off by about 2^(32-d) with probability about |x| / 2^31 per value).
 * Steps: x' = x + 2^30 lies in [0, 2^31). View the replicated share as
 * A = x'0 + x'1 (known to P0) and B = x'2 (known to P1 and P2). As integers
 * A + B = x' + w 2^32 with the wrap bit w = MSB(A) OR MSB(B) (because
 * x' < 2^31). Then floor(x'/2^d) = (A >>> d) + (B >>> d) + c - w 2^(32-d),
 * with c in {0, 1} the carry out of the low d bits, which we drop.
 * In one round: P0 shares A >>> d as an input (to P2), and sends OT messages
 * m_j = -(MSB(A) OR j) 2^(32-d) with P1, P2 choosing j = MSB(B)
 * ({@link otShare}); B >>> d becomes the component x2 locally; subtract 2^(30-d).
 * Result: (x >> d) or (x >> d) - 1 (the reference floors; the secure value is
 * at most one below it), always, for |x| < 2^30. Outside that bound the result
 * is wrong.
 * Cost: 1 round; P0 sends 20n bytes, P1 and P2 4n each.
 * Security: P2 receives A >>> d - r (r from the P0-P1 seed, unknown to P2);
 * the OT outputs are masked as in {@link otShare}; P0 receives nothing.
 */
export async function truncate(ctx: PartyContext, x: AShare, d: number): Promise<AShare> {
  if (!Number.isInteger(d) || d < 0 || d > 30)
    throw new RangeError(`truncate: shift must be 0..30, got ${d}`);
  if (d === 0) return x;
  const n = x.n;
  const xp = aAddConst(ctx, x, 2 ** 30);
  const big = (2 ** (32 - d)) >>> 0;
  if (ctx.id === 0) {
    const ad = new Uint32Array(n);
    const m0 = new Uint32Array(n);
    const m1 = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const a = (xp.s0[i] + xp.s1[i]) >>> 0;
      ad[i] = a >>> d;
      m0[i] = a >>> 31 ? -big : 0;
      m1[i] = -big;
    }
    const [inp, corr] = await Promise.all([
      shareInput(ctx, 0, ad, n),
      otShare(ctx, 0, n, [m0, m1], null),
    ]);
    return aAddConst(ctx, aAdd(inp, corr), -(2 ** (30 - d)));
  }
  const b = ctx.id === 1 ? xp.s1 : xp.s0;
  const choice = new Uint8Array(n);
  const bd = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    choice[i] = b[i] >>> 31;
    bd[i] = b[i] >>> d;
  }
  const [inp, corr] = await Promise.all([
    shareInput(ctx, 0, null, n),
    otShare(ctx, 0, n, null, packBits(choice)),
  ]);
  const sum = aAdd(inp, corr);
  // B >>> d is the component x2: P1's s1, P2's s0
  const s0 = sum.s0.slice();
  const s1 = sum.s1.slice();
  const target = ctx.id === 1 ? s1 : s0;
  for (let i = 0; i < n; i++) target[i] += bd[i];
  return aAddConst(ctx, { n, s0, s1 }, -(2 ** (30 - d)));
}

/**
 * Exact truncation x -> x >> d (the reference's floor, bit for bit) for
 * |x| < 2^30: {@link truncate} plus the carry c out of the low d bits that it
 * drops, c = [(A mod 2^d) + (B mod 2^d) >= 2^d] (A = x0 + x1, B = x2; the
 * 2^30 offset of `truncate` does not touch the low d <= 30 bits), computed by
 * the secure MSB's adder on d bits ({@link lowBitsCarry}) and added in the ring.
 * `prep`: `secureMsbFor(d).prepare(ctx, n, { arith: true })` (daBits, setup);
 * without it the carry goes through the OT {@link b2a} (one more round).
 * Cost: that of truncate (1 round) after that of lowBitsCarry
 * (2 + ceil(log2 d) rounds; see secureMsbCost(d, true)).
 * Security: the composition of two protocols whose views are uniform.
 */
export async function truncateExact(
  ctx: PartyContext,
  x: AShare,
  d: number,
  prep?: MsbPrep,
): Promise<AShare> {
  if (!Number.isInteger(d) || d < 0 || d > 30)
    throw new RangeError(`truncate: shift must be 0..30, got ${d}`);
  if (d === 0) return x;
  const c = await lowBitsCarry(ctx, x, d, prep);
  const carry = c.msbArith ?? (await b2a(ctx, c.msb));
  return aAdd(await truncate(ctx, x, d), carry);
}
