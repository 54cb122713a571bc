import type { PartyContext } from "../context";
import { toBitPlanes, wordsFor } from "../ring/bits";
import type { AShare } from "../sharing/arith";
import type { BShare } from "../sharing/bool";
import { andB } from "./and";
import { shareInputB } from "./input";
import type { MsbPrep, MsbProtocol, MsbResult } from "./msb";

interface Planes {
  s0: Uint32Array;
  s1: Uint32Array;
}

/** Number of AND gates per value in {@link secureMsb} (31 generate + 55 in the carry tree). */
export const SECURE_MSB_ANDS = 86;
/** Rounds of {@link secureMsb}: 1 (share x0 + x1 as bits) + 1 (generate) + 5 (carry tree). */
export const SECURE_MSB_ROUNDS = 7;

async function andMany(
  ctx: PartyContext,
  xs: Planes[],
  ys: Planes[],
  w: number,
): Promise<Planes[]> {
  const k = xs.length;
  const x: BShare = { bits: k * w * 32, s0: new Uint32Array(k * w), s1: new Uint32Array(k * w) };
  const y: BShare = { bits: k * w * 32, s0: new Uint32Array(k * w), s1: new Uint32Array(k * w) };
  for (let j = 0; j < k; j++) {
    x.s0.set(xs[j].s0, j * w);
    x.s1.set(xs[j].s1, j * w);
    y.s0.set(ys[j].s0, j * w);
    y.s1.set(ys[j].s1, j * w);
  }
  const z = await andB(ctx, x, y);
  const out: Planes[] = [];
  for (let j = 0; j < k; j++) {
    out.push({ s0: z.s0.subarray(j * w, (j + 1) * w), s1: z.s1.subarray(j * w, (j + 1) * w) });
  }
  return out;
}

function xorPlanes(a: Planes, b: Planes): Planes {
  const s0 = new Uint32Array(a.s0.length);
  const s1 = new Uint32Array(a.s0.length);
  for (let i = 0; i < s0.length; i++) {
    s0[i] = a.s0[i] ^ b.s0[i];
    s1[i] = a.s1[i] ^ b.s1[i];
  }
  return { s0, s1 };
}

/**
 * Secure MSB extraction (default): x = A + B with A = x0 + x1 (known to P0)
 * and B = x2 (known to P1 and P2, i.e. the boolean component c2 of B's planes
 * at no cost). P0 shares A's 32 bit planes (boolean share input), then a
 * bit-sliced adder computes only the carry into bit 31:
 * generate g_k = A_k B_k and propagate p_k = A_k ^ B_k for k < 31 (one AND
 * round), then a log-depth tree combines (G, P) pairs,
 * G = G_hi ^ P_hi G_lo and P = P_hi P_lo (the lowest group needs no P):
 * 31 -> 16 -> 8 -> 4 -> 2 -> 1 groups, 5 AND rounds. MSB = A_31 ^ B_31 ^ carry.
 * Cost (w = ceil(n/32) words per plane): 7 rounds; P0 sends 4w(32 + 86) bytes,
 * P1 and P2 4w * 86 bytes each (86 ANDs per value, 1 bit each per party).
 * Security: every message is either P0's input share (masked by the P0-P1
 * seed) or an AND reshare (masked by a fresh zero share), so each party's view
 * is uniform and independent of x; the output stays shared.
 */
export const secureMsb: MsbProtocol = {
  name: "secure",
  async prepare(_ctx: PartyContext, n: number): Promise<MsbPrep> {
    return { protocol: "secure", n };
  },
  async extract(ctx: PartyContext, x: AShare): Promise<MsbResult> {
    const n = x.n;
    const w = wordsFor(n);
    let aPlanes: Uint32Array | null = null;
    if (ctx.id === 0) {
      const a = new Uint32Array(n);
      for (let i = 0; i < n; i++) a[i] = x.s0[i] + x.s1[i];
      aPlanes = toBitPlanes(a, n);
    }
    const aSh = await shareInputB(ctx, 0, aPlanes, 32 * w * 32);
    const zero = new Uint32Array(32 * w);
    const bSh: Planes =
      ctx.id === 0
        ? { s0: zero, s1: zero }
        : ctx.id === 1
          ? { s0: zero, s1: toBitPlanes(x.s1, n) }
          : { s0: toBitPlanes(x.s0, n), s1: zero };
    const plane = (p: Planes, k: number): Planes => ({
      s0: p.s0.subarray(k * w, (k + 1) * w),
      s1: p.s1.subarray(k * w, (k + 1) * w),
    });
    const aP: Planes = { s0: aSh.s0, s1: aSh.s1 };
    const as: Planes[] = [];
    const bs: Planes[] = [];
    for (let k = 0; k < 31; k++) {
      as.push(plane(aP, k));
      bs.push(plane(bSh, k));
    }
    const g = await andMany(ctx, as, bs, w);
    let level: { g: Planes; p: Planes | null }[] = g.map((gk, k) => ({
      g: gk,
      p: k === 0 ? null : xorPlanes(as[k], bs[k]),
    }));
    while (level.length > 1) {
      const xs: Planes[] = [];
      const ys: Planes[] = [];
      const pairs = level.length >>> 1;
      for (let j = 0; j < pairs; j++) {
        const lo = level[2 * j];
        const hi = level[2 * j + 1];
        xs.push(hi.p!);
        ys.push(lo.g);
        if (lo.p) {
          xs.push(hi.p!);
          ys.push(lo.p);
        }
      }
      const prod = await andMany(ctx, xs, ys, w);
      const next: { g: Planes; p: Planes | null }[] = [];
      let t = 0;
      for (let j = 0; j < pairs; j++) {
        const lo = level[2 * j];
        const hi = level[2 * j + 1];
        const gNew = xorPlanes(hi.g, prod[t++]);
        const pNew = lo.p ? prod[t++] : null;
        next.push({ g: gNew, p: pNew });
      }
      if (level.length & 1) next.push(level[level.length - 1]);
      level = next;
    }
    const carry = level[0].g;
    const top = xorPlanes(xorPlanes(plane(aP, 31), plane(bSh, 31)), carry);
    return { msb: { bits: n, s0: top.s0.slice(), s1: top.s1.slice() } };
  },
};
