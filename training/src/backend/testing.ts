import * as tf from "@tensorflow/tfjs";
import { initBackend } from "./init";

/** Test helpers: run the same computation on cpu and on wasm, compare. Not for production. */

export async function initWasmForTests(): Promise<void> {
  await initBackend({ backend: "wasm", log: () => {} });
}

/** Deterministic uniform values in [lo, hi) (mulberry32). */
export function randomValues(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/** Run `f` on a backend and read back every output tensor. */
export async function runOn(
  backend: "cpu" | "wasm",
  f: () => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const vals = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  await tf.setBackend("wasm");
  return vals;
}

/**
 * Largest error of `got` against `want`, relative to |want| + the mean |want| (so that
 * entries that cancel to about zero are judged on the scale of the whole tensor).
 */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let mean = 0;
  for (let i = 0; i < want.length; i++) mean += Math.abs(want[i]!);
  mean = want.length ? mean / want.length : 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    worst = Math.max(worst, d / (Math.abs(want[i]!) + mean + 1e-30));
  }
  return worst;
}

/** Compare wasm against cpu for every output of `f`; returns the worst relative error. */
export async function wasmVsCpu(f: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const want = await runOn("cpu", f);
  const got = await runOn("wasm", f);
  if (want.length !== got.length) return Number.POSITIVE_INFINITY;
  return Math.max(...want.map((w, i) => relError(got[i]!, w)));
}
