import type { PartyContext } from "../context";
import { getBit } from "../ring/bits";
import type { AShare } from "../sharing/arith";
import type { PartyId } from "../transport/types";
import { ot3 } from "./ot3";

/**
 * [m_c]^A from one sender P_k that knows two ring messages per element
 * (m0, m1), where the choice bits c are known to both other parties (in
 * replicated boolean sharing: c = component c_{k+2}, held by P_{k+1} and
 * P_{k+2}). Two 3-party OTs run in the same round, one to each of P_{k+1} and
 * P_{k+2} (each the other's helper), so both learn the same masked value
 * y_{k+2} = m_c - y_k - y_{k+1}, where y_k (seed P_{k-1}P_k) and y_{k+1}
 * (seed P_kP_{k+1}) are fresh randoms. Output: the replicated share
 * (y_k, y_{k+1}, y_{k+2}).
 * Cost: 1 round; P_k sends 16n bytes, P_{k+1} and P_{k+2} 4n each.
 * Security: P_{k+1} sees y_{k+2}, uniform since y_k is unknown to it (and
 * likewise y_{k+1} for P_{k+2}), and the other OT message under an unknown
 * mask; P_k receives nothing.
 */
export async function otShare(
  ctx: PartyContext,
  k: PartyId,
  n: number,
  messages: [Uint32Array, Uint32Array] | null,
  c: Uint32Array | null,
): Promise<AShare> {
  const pos = ctx.offsetFrom(k);
  const p1 = ctx.rel(1 - pos);
  const p2 = ctx.rel(2 - pos);
  const toP1 = { sender: k, receiver: p1, helper: p2 };
  const toP2 = { sender: k, receiver: p2, helper: p1 };
  if (pos === 0) {
    if (!messages || messages[0].length !== n || messages[1].length !== n) {
      throw new Error(`party ${ctx.id}: otShare sender needs two messages of ${n} values`);
    }
    const yk = ctx.rand.common(ctx.prev, n);
    const yk1 = ctx.rand.common(ctx.next, n);
    const m0 = new Uint32Array(n);
    const m1 = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const mask = yk[i] + yk1[i];
      m0[i] = messages[0][i] - mask;
      m1[i] = messages[1][i] - mask;
    }
    // seed draws: prev key: y_k then masks of toP1; next key: y_{k+1} then masks of toP2.
    await Promise.all([ot3(ctx, toP1, n, [m0, m1], null), ot3(ctx, toP2, n, [m0, m1], null)]);
    return { n, s0: yk, s1: yk1 };
  }
  if (!c) throw new Error(`party ${ctx.id}: otShare needs the choice bits`);
  if (pos === 1) {
    const yk1 = ctx.rand.common(k, n);
    const [mine] = await Promise.all([ot3(ctx, toP1, n, null, c), ot3(ctx, toP2, n, null, c)]);
    return { n, s0: yk1, s1: mine! };
  }
  const yk = ctx.rand.common(k, n);
  const [, mine] = await Promise.all([ot3(ctx, toP1, n, null, c), ot3(ctx, toP2, n, null, c)]);
  return { n, s0: mine!, s1: yk };
}

/**
 * [(a ^ c) * v]^A: {@link otShare} with m_j = (a ^ j) v, where the sender P_k
 * knows the packed bits a and the values v (v = null means v = 1).
 * Cost: 1 round; P_k sends 16n bytes, P_{k+1} and P_{k+2} 4n each.
 */
export async function bitTimesValue(
  ctx: PartyContext,
  k: PartyId,
  n: number,
  a: Uint32Array | null,
  v: Uint32Array | null,
  c: Uint32Array | null,
): Promise<AShare> {
  if (ctx.id !== k) return otShare(ctx, k, n, null, c);
  if (!a) throw new Error(`party ${ctx.id}: bitTimesValue sender needs its bits`);
  if (v && v.length !== n)
    throw new Error(`party ${ctx.id}: bitTimesValue needs ${n} values, got ${v.length}`);
  const m0 = new Uint32Array(n);
  const m1 = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const val = v ? v[i] : 1;
    const bit = getBit(a, i);
    m0[i] = bit ? val : 0;
    m1[i] = bit ? 0 : val;
  }
  return otShare(ctx, k, n, [m0, m1], null);
}
