/** Ring values for kernel tests: seeded, with edge values mixed in. */

export const EDGES = [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe];
export const MOD = 2n ** 32n;

/** Deterministic xorshift32 so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Random ring elements, about a quarter of them edge values. */
export function randomU32(n: number, seed: number): Uint32Array {
  const r = rng(seed);
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const v = r();
    a[i] = (v & 3) === 0 ? EDGES[(v >>> 2) % EDGES.length] : r();
  }
  return a;
}
