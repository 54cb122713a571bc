import type { PartyContext } from "../context";
import { type AShare, aAdd, aAddConst, aConcat, aGather, aSlice, aSub } from "../sharing/arith";
import { type BShare, bConcat, bGather, bNot, bSlice } from "../sharing/bool";
import { signBits } from "./activation";
import { andB } from "./and";
import { bitMul } from "./bit-mul";
import type { MsbPrep, MsbProtocol } from "./msb";

export interface PoolGeometry {
  batch: number;
  inShape: [number, number, number];
  pool: [number, number];
  strides: [number, number];
}

/** Output [oh, ow] of a valid (unpadded) pooling window. */
export function poolOutShape(g: PoolGeometry): [number, number] {
  const [h, w] = g.inShape;
  const oh = Math.floor((h - g.pool[0]) / g.strides[0]) + 1;
  const ow = Math.floor((w - g.pool[1]) / g.strides[1]) + 1;
  if (oh < 1 || ow < 1)
    throw new RangeError(`maxpool: window ${g.pool} larger than input ${g.inShape}`);
  return [oh, ow];
}

/** For each window slot, the input index of every output element (NHWC). */
export function poolSlots(g: PoolGeometry): Uint32Array[] {
  const [h, w, c] = g.inShape;
  const [oh, ow] = poolOutShape(g);
  const nOut = g.batch * oh * ow * c;
  const slots: Uint32Array[] = [];
  for (let dy = 0; dy < g.pool[0]; dy++) {
    for (let dx = 0; dx < g.pool[1]; dx++) {
      const idx = new Uint32Array(nOut);
      let o = 0;
      for (let b = 0; b < g.batch; b++) {
        for (let y = 0; y < oh; y++) {
          for (let x = 0; x < ow; x++) {
            const base = ((b * h + y * g.strides[0] + dy) * w + x * g.strides[1] + dx) * c;
            for (let ch = 0; ch < c; ch++) idx[o++] = base + ch;
          }
        }
      }
      slots.push(idx);
    }
  }
  void h;
  return slots;
}

/**
 * Maxpool over bits (after Sign) as OR of the window, on boolean shares:
 * OR = NOT(AND of NOTs), a balanced AND tree: ceil(log2(K)) rounds for a
 * window of K (2 rounds for 2x2), each round one {@link andB} over all pairs
 * of that level: each party sends 4*ceil(pairs*nOut/32) bytes per round
 * (for 2x2: 2 nOut bits, then nOut bits).
 */
export async function maxpoolOr(ctx: PartyContext, x: BShare, g: PoolGeometry): Promise<BShare> {
  let level = poolSlots(g).map((idx) => bNot(ctx, bGather(x, idx)));
  while (level.length > 1) {
    const pairs = level.length >>> 1;
    const m = level[0].bits;
    const lhs = bConcat(level.slice(0, pairs * 2).filter((_, i) => i % 2 === 0));
    const rhs = bConcat(level.slice(0, pairs * 2).filter((_, i) => i % 2 === 1));
    const prod = await andB(ctx, lhs, rhs);
    const next: BShare[] = [];
    for (let j = 0; j < pairs; j++) next.push(bSlice(prod, j * m, m));
    if (level.length & 1) next.push(level[level.length - 1]);
    level = next;
  }
  return bNot(ctx, level[0]);
}

/**
 * The paper's maxpool after Sign (3.6): sum the window's {0,1} ring values,
 * subtract 1 and take Sign: 1 iff some bit is 1. Costs one MSB (plus no
 * b2a: the result is returned as boolean shares).
 */
export async function maxpoolSumSign(
  ctx: PartyContext,
  x: AShare,
  g: PoolGeometry,
  msb: MsbProtocol,
  prep?: MsbPrep,
): Promise<BShare> {
  const slots = poolSlots(g);
  let sum = aGather(x, slots[0]);
  for (let s = 1; s < slots.length; s++) sum = aAdd(sum, aGather(x, slots[s]));
  return (await signBits(ctx, msb, aAddConst(ctx, sum, -1), prep)).bits;
}

/**
 * General max over a window (ReLU nets): a balanced tree of
 * max(a, b) = b + relu(a - b); per level one MSB of all pairs plus one
 * {@link bitMul} round.
 */
export async function maxpoolMax(
  ctx: PartyContext,
  x: AShare,
  g: PoolGeometry,
  msb: MsbProtocol,
): Promise<AShare> {
  let level = poolSlots(g).map((idx) => aGather(x, idx));
  while (level.length > 1) {
    const pairs = level.length >>> 1;
    const m = level[0].n;
    const a = aConcat(level.slice(0, pairs * 2).filter((_, i) => i % 2 === 0));
    const b = aConcat(level.slice(0, pairs * 2).filter((_, i) => i % 2 === 1));
    const d = aSub(a, b);
    const s = await signBits(ctx, msb, d);
    const m2 = aAdd(b, await bitMul(ctx, s.bits, d));
    const next: AShare[] = [];
    for (let j = 0; j < pairs; j++) next.push(aSlice(m2, j * m, m));
    if (level.length & 1) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}
