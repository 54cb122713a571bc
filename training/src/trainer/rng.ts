/**
 * Small seeded RNG for the trainer's batch order. Every random choice of a run
 * is derived from (seed, epoch, batch, purpose), so no RNG state has to be
 * carried between steps: a run resumed at any step boundary draws exactly the
 * numbers an uninterrupted run would have drawn.
 */
import { makeRng } from "@cbnn/datasets";

/** Mixes a list of integers into one 32-bit seed (murmur3-style finaliser). */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    if (!Number.isInteger(p)) throw new Error(`deriveSeed: ${p} is not an integer`);
    // Fold in the low and high 32 bits so large integers keep their entropy.
    const lo = p >>> 0;
    const hi = Math.floor(p / 0x100000000) >>> 0;
    for (const w of [lo, hi]) {
      h ^= w;
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

/** mulberry32, the same generator the datasets package uses for augmentation. */
export const mulberry32: (seed: number) => () => number = makeRng;

/** A permutation of 0..n-1 (Fisher-Yates) driven by `seed`. */
export function permutation(n: number, seed: number): Uint32Array {
  const rand = mulberry32(seed);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
