import type { PartyContext } from "../context";
import { toBitPlanes, wordsFor } from "../ring/bits";
import type { AShare } from "../sharing/arith";
import type { BShare } from "../sharing/bool";
import { andB } from "./and";
import { type DaBits, makeDaBits, unmaskDaBits } from "./dabit";
import { shareInputB } from "./input";
import type { MsbPrep, MsbProtocol, MsbResult } from "./msb";

interface Planes {
  s0: Uint32Array;
  s1: Uint32Array;
}

/** Preprocessing of {@link secureMsbFor} when the ring form of the result is wanted. */
interface SecurePrep extends MsbPrep {
  readonly protocol: "secure";
  dabits?: DaBits;
}

/** AND gates of the carry tree over `b` (G, P) groups, the lowest one without P. */
function treeAnds(b: number): number {
  let ands = 0;
  let groups = b;
  while (groups > 1) {
    const pairs = groups >>> 1;
    ands += 2 * pairs - 1;
    groups = pairs + (groups & 1);
  }
  return ands;
}

/**
 * Cost of {@link secureMsbFor}(bits) per value: AND gates (bits generates +
 * the carry tree), boolean planes P0 inputs (bits + 1), online rounds
 * (1 input + 1 generate + ceil(log2 bits) tree levels), and the words each
 * party sends per w = ceil(n/32) (`p0`; `p12` for P1 and P2 each): P0 sends
 * its planes and one word per tree AND (generates cost it nothing), P1 and P2
 * one word per AND. With `arith` (daBits) the last AND round opens to both
 * others: one more word each (bits = 1: the lone generate becomes a general
 * AND opened to both, 2 words each).
 */
export function secureMsbCost(
  bits: number,
  arith = false,
): { ands: number; planes: number; rounds: number; p0: number; p12: number } {
  const tree = treeAnds(bits);
  const base = {
    ands: bits + tree,
    planes: bits + 1,
    rounds: 2 + Math.ceil(Math.log2(bits)),
  };
  if (!arith) return { ...base, p0: base.planes + tree, p12: base.ands };
  if (bits === 1) return { ...base, p0: base.planes + 2, p12: 2 };
  return { ...base, p0: base.planes + tree + 1, p12: base.ands + 1 };
}

/** Number of AND gates per value in {@link secureMsb} (31 generate + 55 in the carry tree). */
export const SECURE_MSB_ANDS = secureMsbCost(31).ands;
/** Rounds of {@link secureMsb}: 1 (share x0 + x1 as bits) + 1 (generate) + 5 (carry tree). */
export const SECURE_MSB_ROUNDS = secureMsbCost(31).rounds;

/** Concatenates k plane groups (w words each), ANDs them in one round (or only locally). */
function concat(ps: Planes[], w: number): BShare {
  const k = ps.length;
  const s0 = new Uint32Array(k * w);
  const s1 = new Uint32Array(k * w);
  for (let j = 0; j < k; j++) {
    s0.set(ps[j].s0, j * w);
    s1.set(ps[j].s1, j * w);
  }
  return { bits: k * w * 32, s0, s1 };
}

function split(z: BShare, k: number, w: number): Planes[] {
  const out: Planes[] = [];
  for (let j = 0; j < k; j++) {
    out.push({ s0: z.s0.subarray(j * w, (j + 1) * w), s1: z.s1.subarray(j * w, (j + 1) * w) });
  }
  return out;
}

async function andMany(
  ctx: PartyContext,
  xs: Planes[],
  ys: Planes[],
  w: number,
): Promise<Planes[]> {
  return split(await andB(ctx, concat(xs, w), concat(ys, w)), xs.length, w);
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

/** The 3-of-3 component z_i of x AND y (under a fresh zero share), before any reshare. */
function andLocal(ctx: PartyContext, x: Planes, y: Planes): Uint32Array {
  const w = x.s0.length;
  const z = ctx.rand.zeroShareBool(w);
  for (let i = 0; i < w; i++)
    z[i] ^= (x.s0[i] & y.s0[i]) ^ (x.s0[i] & y.s1[i]) ^ (x.s1[i] & y.s0[i]);
  return z;
}

/**
 * Secure MSB extraction for inputs with |x| < 2^bits (bits = 31: any int32).
 * Such x agree with their (bits + 1)-bit two's complement, so
 * MSB(x) = bit `bits` of (A + B) mod 2^(bits+1), with x = A + B, A = x0 + x1
 * (known to P0) and B = x2 (known to P1 and P2, i.e. the boolean component c2
 * of B's planes at no cost). P0 shares A's planes 0..bits (boolean share
 * input), then a bit-sliced adder computes only the carry into bit `bits`:
 * generate g_k = A_k B_k and propagate p_k = A_k ^ B_k for k < bits (one AND
 * round), then a log-depth tree combines (G, P) pairs,
 * G = G_hi ^ P_hi G_lo and P = P_hi P_lo (the lowest group needs no P).
 * MSB = A_bits ^ B_bits ^ carry.
 * Cost (w = ceil(n/32) words per plane, see {@link secureMsbCost}):
 * 2 + ceil(log2 bits) rounds; P0 sends 4w (planes + tree ANDs) bytes, P1
 * and P2 4w ands each (the generates cost P0 nothing, see `generate`);
 * bits = 31: 7 rounds, 86 ANDs (31 generates), 32 planes.
 * With daBits in the preprocessing (`prepare(ctx, n, { arith: true })`) the
 * result also comes in ring form at no extra round: the last AND round does
 * not reshare its output but reveals e = MSB ^ rho to all (each party sends
 * its 3-of-3 component, masked by the zero share, to both others: 8w bytes
 * each instead of the reshare's 4w), and the shares of MSB follow locally
 * from e and the daBits ({@link unmaskDaBits}).
 * Security: every message is P0's input share (masked by the P0-P1 seed), an
 * AND reshare (masked by a fresh zero share), or, with daBits, a 3-of-3
 * sharing of e under a fresh zero share with e = MSB ^ rho uniform to every
 * party (each misses one component of rho): each party's view is uniform
 * and independent of x. Correct only for |x| < 2^bits: the bound must be
 * proven (the export's `outBoundBits`), never estimated.
 */
export function secureMsbFor(bits = 31): MsbProtocol {
  if (!Number.isInteger(bits) || bits < 1 || bits > 31)
    throw new RangeError(`secure MSB: input bound must be 1..31 bits, got ${bits}`);
  return {
    name: "secure",
    bits,
    async prepare(ctx: PartyContext, n: number, opts?: { arith?: boolean }): Promise<MsbPrep> {
      const prep: SecurePrep = { protocol: "secure", n };
      if (opts?.arith) prep.dabits = await makeDaBits(ctx, n);
      return prep;
    },
    async extract(ctx: PartyContext, x: AShare, prep?: MsbPrep): Promise<MsbResult> {
      // A = x0 + x1 at P0; B = x2 is P1's s1 and P2's s0
      const a = ctx.id === 0 ? sum(x.s0, x.s1) : null;
      const b = ctx.id === 1 ? x.s1 : ctx.id === 2 ? x.s0 : null;
      return adder(ctx, bits, x.n, a, async () => b!, prep);
    },
    async extract3(ctx: PartyContext, z: Uint32Array, prep?: MsbPrep): Promise<MsbResult> {
      // A = z0 at P0; B = z1 + z2: P1 and P2 swap their components in the
      // round in which P0 shares A's planes
      const n = z.length;
      if (ctx.id === 0) return adder(ctx, bits, n, z, async () => null, prep);
      const peer = ctx.id === 1 ? 2 : 1;
      ctx.sendU32(peer, z);
      const other = ctx.recvU32(peer, n, "secure MSB component swap");
      return adder(ctx, bits, n, null, async () => sum(z, await other), prep);
    },
  };
}

/**
 * Carry out of the low d bits of A + B, [(A mod 2^d) + (B mod 2^d) >= 2^d],
 * for x = A + B split as in {@link secureMsbFor} (A = x0 + x1 at P0, B = x2):
 * the same adder on d bits with A_d = B_d = 0. `prep` from
 * `secureMsbFor(d).prepare(ctx, n, { arith: true })` gives the ring form.
 * Cost: that of secureMsbFor(d) (see {@link secureMsbCost}).
 */
export async function lowBitsCarry(
  ctx: PartyContext,
  x: AShare,
  d: number,
  prep?: MsbPrep,
): Promise<MsbResult> {
  if (!Number.isInteger(d) || d < 1 || d > 31)
    throw new RangeError(`lowBitsCarry: d must be 1..31, got ${d}`);
  const mask = d === 31 ? 0x7fffffff : 2 ** d - 1;
  const low = (v: Uint32Array): Uint32Array => {
    const out = new Uint32Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = v[i] & mask;
    return out;
  };
  const a = ctx.id === 0 ? low(sum(x.s0, x.s1)) : null;
  const b = ctx.id === 1 ? low(x.s1) : ctx.id === 2 ? low(x.s0) : null;
  return adder(ctx, d, x.n, a, async () => b, prep);
}

function sum(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/**
 * The adder of {@link secureMsbFor}: MSB of A + B mod 2^(bits+1) with A known
 * to P0 (`a`, null elsewhere) and B known to P1 and P2 (`getB`, awaited after
 * P0's planes are on their way).
 */
async function adder(
  ctx: PartyContext,
  bits: number,
  n: number,
  a: Uint32Array | null,
  getB: () => Promise<Uint32Array | null>,
  prep?: MsbPrep,
): Promise<MsbResult> {
  const p = prep as SecurePrep | undefined;
  if (p && (p.protocol !== "secure" || p.n !== n))
    throw new Error(`secure MSB: preprocessing for ${p.n} values, got ${n}`);
  const w = wordsFor(n);
  const np = bits + 1;
  const aPlanes = a ? toBitPlanes(a, n).subarray(0, np * w) : null;
  const aShP = shareInputB(ctx, 0, aPlanes, np * w * 32);
  const b = await getB();
  const aSh = await aShP;
  const zero = new Uint32Array(np * w);
  const bSh: Planes =
    ctx.id === 0
      ? { s0: zero, s1: zero }
      : ctx.id === 1
        ? { s0: zero, s1: toBitPlanes(b!, n).subarray(0, np * w) }
        : { s0: toBitPlanes(b!, n).subarray(0, np * w), s1: zero };
  const plane = (q: Planes, k: number): Planes => ({
    s0: q.s0.subarray(k * w, (k + 1) * w),
    s1: q.s1.subarray(k * w, (k + 1) * w),
  });
  const aP: Planes = { s0: aSh.s0, s1: aSh.s1 };
  const as: Planes[] = [];
  const bs: Planes[] = [];
  for (let k = 0; k < bits; k++) {
    as.push(plane(aP, k));
    bs.push(plane(bSh, k));
  }
  // the bits of the result that need no AND: A_b ^ B_b (^ G_hi at the last level)
  let rest = xorPlanes(plane(aP, bits), plane(bSh, bits));
  const dab = p?.dabits;
  if (dab) {
    // every AND level but the last as usual; the last one opens e = MSB ^ rho
    let lastX: Planes;
    let lastY: Planes;
    if (bits === 1) {
      lastX = as[0];
      lastY = bs[0];
    } else {
      const g = await generate(ctx, as, bs, w);
      let level = levelFrom(g, as, bs);
      while (level.length > 2) level = await treeLevel(ctx, level, w);
      const [lo, hi] = level;
      rest = xorPlanes(rest, hi.g);
      lastX = hi.p!;
      lastY = lo.g;
    }
    const z = andLocal(ctx, lastX, lastY);
    for (let i = 0; i < w; i++) z[i] ^= rest.s0[i] ^ dab.bits.s0[i];
    ctx.sendU32(ctx.next, z);
    ctx.sendU32(ctx.prev, z);
    const [zn, zp] = await Promise.all([
      ctx.recvU32(ctx.next, w, "secure MSB masked result"),
      ctx.recvU32(ctx.prev, w, "secure MSB masked result"),
    ]);
    const e = new Uint32Array(w);
    for (let i = 0; i < w; i++) e[i] = z[i] ^ zn[i] ^ zp[i];
    const out = unmaskDaBits(ctx, e, dab);
    return { msb: out.bits, msbArith: out.arith };
  }
  const g = await generate(ctx, as, bs, w);
  let level = levelFrom(g, as, bs);
  while (level.length > 1) level = await treeLevel(ctx, level, w);
  const top = xorPlanes(rest, level[0].g);
  return { msb: { bits: n, s0: top.s0.slice(), s1: top.s1.slice() } };
}

/**
 * Generate bits g_k = A_k B_k, with A input-shared by P0 (components
 * c0 = A ^ r, c1 = r, c2 = 0, r from the P0-P1 seed) and B = component c2
 * (known to P1 and P2). The new sharing is g0 = F(k2) (P2-P0 seed),
 * g1 = F(k0) (P0-P1 seed) and g2 = g ^ g0 ^ g1 = (r B ^ g1) ^ ((A ^ r) B ^ g0):
 * P1 sends r B ^ g1 to P2 and P2 sends (A ^ r) B ^ g0 to P1; P0 sends nothing.
 * Cost: 1 round; P1 and P2 send 4w bytes per plane, P0 nothing (a general
 * AND: 4w each). Security: P2 sees r B ^ F(k0) and P1 sees (A ^ r) B ^ F(k2),
 * each under a seed it does not hold: uniform.
 */
async function generate(
  ctx: PartyContext,
  as: Planes[],
  bs: Planes[],
  w: number,
): Promise<Planes[]> {
  const k = as.length;
  const total = k * w;
  if (ctx.id === 0) {
    const g0 = ctx.rand.common(ctx.prev, total);
    const g1 = ctx.rand.common(ctx.next, total);
    return split({ bits: total * 32, s0: g0, s1: g1 }, k, w);
  }
  const mine = ctx.rand.common(0, total); // P1: g1 (seed k0); P2: g0 (seed k2)
  const m = new Uint32Array(total);
  for (let j = 0; j < k; j++) {
    // P1: r = its s0 of A, B = its s1; P2: A ^ r = its s1 of A, B = its s0
    const a = ctx.id === 1 ? as[j].s0 : as[j].s1;
    const b = ctx.id === 1 ? bs[j].s1 : bs[j].s0;
    for (let i = 0; i < w; i++) m[j * w + i] = (a[i] & b[i]) ^ mine[j * w + i];
  }
  const peer = ctx.id === 1 ? 2 : 1;
  ctx.sendU32(peer, m);
  const other = await ctx.recvU32(peer, total, "secure MSB generate bits");
  const g2 = new Uint32Array(total);
  for (let i = 0; i < total; i++) g2[i] = m[i] ^ other[i];
  return split(
    ctx.id === 1 ? { bits: total * 32, s0: mine, s1: g2 } : { bits: total * 32, s0: g2, s1: mine },
    k,
    w,
  );
}

interface Group {
  g: Planes;
  p: Planes | null;
}

function levelFrom(g: Planes[], as: Planes[], bs: Planes[]): Group[] {
  return g.map((gk, k) => ({ g: gk, p: k === 0 ? null : xorPlanes(as[k], bs[k]) }));
}

/** One level of the carry tree: pairs (lo, hi) -> (G_hi ^ P_hi G_lo, P_hi P_lo), 1 AND round. */
async function treeLevel(ctx: PartyContext, level: Group[], w: number): Promise<Group[]> {
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
  const next: Group[] = [];
  let t = 0;
  for (let j = 0; j < pairs; j++) {
    const lo = level[2 * j];
    const hi = level[2 * j + 1];
    const gNew = xorPlanes(hi.g, prod[t++]);
    const pNew = lo.p ? prod[t++] : null;
    next.push({ g: gNew, p: pNew });
  }
  if (level.length & 1) next.push(level[level.length - 1]);
  return next;
}

/** The secure MSB for any int32 input (no bound): {@link secureMsbFor}(31). */
export const secureMsb: MsbProtocol = secureMsbFor(31);
