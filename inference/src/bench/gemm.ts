/**
 * Ring kernel benchmark: naive vs fast GEMM and conv over Z_2^32, measured in
 * one run (median of repeats, with min and max), plus depthwise and pointwise
 * throughput. Single-threaded, so "per second" is per core.
 *
 *   npx tsx inference/src/bench/gemm.ts [--quick]
 */
import { pathToFileURL } from "node:url";
import type { Padding } from "@cbnn/shared";
import { Command } from "commander";
import { conv2dU32, convOutShape, depthwise2dU32, pointwiseU32 } from "../ring/conv";
import {
  matmulU32,
  matmulU32Js,
  matmulU32Kernel,
  matmulU32Naive,
  wasmSimdAvailable,
} from "../ring/gemm";

export interface Timing {
  /** Milliseconds per call. */
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Timed samples (each the mean over `callsPerSample` back-to-back calls). */
  samples: number;
  callsPerSample: number;
  /** Multiply-adds per second at the median, in units of 10^9. */
  gmacPerSec: number;
}

export interface GemmBenchCase {
  name: string;
  /** Human-readable shape, e.g. "256x256 . 256x256". */
  shape: string;
  /** Multiply-adds per call. */
  macs: number;
  /** The default kernel (matmulU32 / conv2dU32: WebAssembly SIMD where available). */
  fast: Timing;
  /** GEMM cases: the plain-JS blocked kernel (matmulU32Js), for comparison. */
  js?: Timing;
  /** Absent for kernels without a naive counterpart (depthwise, pointwise). */
  naive?: Timing;
  /** naive median / fast median. */
  speedup?: number;
}

export interface GemmBenchResult {
  quick: boolean;
  /** The kernel matmulU32 uses here. */
  kernel: "wasm-simd" | "js";
  node: string;
  cases: GemmBenchCase[];
}

/** Deterministic uniform ring elements (xorshift32). */
function randomU32(n: number, seed: number): Uint32Array {
  let s = seed >>> 0 || 1;
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = s;
  }
  return a;
}

/** Direct 7-loop convolution, the naive counterpart of conv2dU32 (NHWC, zero padding). */
function conv2dNaive(
  x: Uint32Array,
  batch: number,
  [h, w, c]: [number, number, number],
  wt: Uint32Array,
  [kh, kw]: [number, number],
  outC: number,
  [sh, sw]: [number, number],
  p: Padding,
): Uint32Array {
  const [oh, ow] = convOutShape([h, w, c], [kh, kw], [sh, sw], p);
  const out = new Uint32Array(batch * oh * ow * outC);
  for (let b = 0; b < batch; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < outC; o++) {
          let acc = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh + ky - p.top;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw + kx - p.left;
              if (ix < 0 || ix >= w) continue;
              const xi = ((b * h + iy) * w + ix) * c;
              const wi = (ky * kw + kx) * c * outC + o;
              for (let ci = 0; ci < c; ci++) {
                acc = (acc + Math.imul(x[xi + ci], wt[wi + ci * outC])) | 0;
              }
            }
          }
          out[((b * oh + oy) * ow + ox) * outC + o] = acc >>> 0;
        }
  return out;
}

/**
 * Times `fn`: warm-up calls for at least `minSampleMs` (so the JIT has
 * optimised it), then `samples` samples, each the mean of enough back-to-back
 * calls to last about `minSampleMs`.
 */
function time(fn: () => unknown, macs: number, samples: number, minSampleMs: number): Timing {
  const warm0 = performance.now();
  let warmCalls = 0;
  let last = 0;
  while (warmCalls < 2 || performance.now() - warm0 < minSampleMs) {
    const t = performance.now();
    fn();
    last = performance.now() - t;
    warmCalls++;
  }
  const calls = Math.max(1, Math.ceil(minSampleMs / Math.max(last, 1e-3)));
  const ms: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = performance.now();
    for (let c = 0; c < calls; c++) fn();
    ms.push((performance.now() - start) / calls);
  }
  ms.sort((a, b) => a - b);
  const medianMs = ms[Math.floor(ms.length / 2)];
  return {
    medianMs,
    minMs: ms[0],
    maxMs: ms[ms.length - 1],
    samples,
    callsPerSample: calls,
    gmacPerSec: macs / (medianMs * 1e-3) / 1e9,
  };
}

function sameU32(a: Uint32Array, b: Uint32Array, what: string): void {
  if (a.length !== b.length)
    throw new Error(`benchGemm: ${what}: length ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) throw new Error(`benchGemm: ${what}: fast and naive differ at ${i}`);
  }
}

/**
 * Runs the ring kernel benchmark. `quick` shrinks the conv batch and the repeat
 * count (for CI smoke runs); the numbers to report come from the full run.
 * Fast and naive outputs are compared, and a mismatch throws.
 */
export async function benchGemm(opts: { quick: boolean }): Promise<GemmBenchResult> {
  const { quick } = opts;
  const samples = quick ? 3 : 7;
  const minMs = quick ? 20 : 100;
  const naiveSamples = quick ? 3 : 5;
  const cases: GemmBenchCase[] = [];

  const convRows = (quick ? 10 : 100) * 24 * 24;
  const gemmShapes: [string, number, number, number][] = [
    ["gemm 256^3", 256, 256, 256],
    ["conv-shaped gemm (im2col of the conv below)", convRows, 400, 16],
    ["dense batch 100 (784 -> 128)", 100, 784, 128],
    ["dense batch 1 (784 -> 128)", 1, 784, 128],
  ];
  for (const [name, m, k, n] of gemmShapes) {
    const a = randomU32(m * k, 1 + m);
    const b = randomU32(k * n, 2 + n);
    const out = new Uint32Array(m * n);
    const ref = matmulU32Naive(a, b, m, k, n);
    sameU32(matmulU32(a, b, m, k, n, out), ref, name);
    const macs = m * k * n;
    const naive = time(() => matmulU32Naive(a, b, m, k, n, ref), macs, naiveSamples, minMs);
    const fast = time(() => matmulU32(a, b, m, k, n, out), macs, samples, minMs);
    sameU32(matmulU32Js(a, b, m, k, n, out), ref, `${name} (js)`);
    const js = wasmSimdAvailable()
      ? time(() => matmulU32Js(a, b, m, k, n, out), macs, samples, minMs)
      : undefined;
    cases.push({
      name,
      shape: `${m}x${k} . ${k}x${n}`,
      macs,
      naive,
      fast,
      js,
      speedup: naive.medianMs / fast.medianMs,
    });
  }

  // MnistNet3's first conv on a batch: 28x28x16 in, 5x5, 16 out, stride 1, valid.
  const batch = quick ? 10 : 100;
  const inShape: [number, number, number] = [28, 28, 16];
  const pad0: Padding = { top: 0, bottom: 0, left: 0, right: 0 };
  {
    const x = randomU32(batch * 28 * 28 * 16, 3);
    const w = randomU32(5 * 5 * 16 * 16, 4);
    const [oh, ow] = convOutShape(inShape, [5, 5], [1, 1], pad0);
    const macs = batch * oh * ow * 16 * 5 * 5 * 16;
    const out = new Uint32Array(batch * oh * ow * 16);
    const name = `conv 5x5 batch ${batch}`;
    const ref = conv2dNaive(x, batch, inShape, w, [5, 5], 16, [1, 1], pad0);
    sameU32(conv2dU32(x, batch, inShape, w, [5, 5], 16, [1, 1], pad0, out), ref, name);
    const naive = time(
      () => conv2dNaive(x, batch, inShape, w, [5, 5], 16, [1, 1], pad0),
      macs,
      naiveSamples,
      minMs,
    );
    const fast = time(
      () => conv2dU32(x, batch, inShape, w, [5, 5], 16, [1, 1], pad0, out),
      macs,
      samples,
      minMs,
    );
    cases.push({
      name,
      shape: `${batch}x28x28x16 * 5x5x16x16 s1 valid`,
      macs,
      naive,
      fast,
      speedup: naive.medianMs / fast.medianMs,
    });
  }
  {
    const pad1: Padding = { top: 1, bottom: 1, left: 1, right: 1 };
    const x = randomU32(batch * 28 * 28 * 16, 5);
    const w = randomU32(3 * 3 * 16, 6);
    const macs = batch * 28 * 28 * 16 * 9;
    const out = new Uint32Array(batch * 28 * 28 * 16);
    const fast = time(
      () => depthwise2dU32(x, batch, inShape, w, [3, 3], [1, 1], pad1, out),
      macs,
      samples,
      minMs,
    );
    cases.push({
      name: `depthwise 3x3 batch ${batch}`,
      shape: `${batch}x28x28x16 * 3x3x16 s1 same`,
      macs,
      fast,
    });
  }
  {
    const x = randomU32(batch * 14 * 14 * 32, 7);
    const w = randomU32(32 * 64, 8);
    const macs = batch * 14 * 14 * 32 * 64;
    const out = new Uint32Array(batch * 14 * 14 * 64);
    const fast = time(() => pointwiseU32(x, batch, [14, 14, 32], w, 64, out), macs, samples, minMs);
    cases.push({
      name: `pointwise batch ${batch}`,
      shape: `${batch}x14x14x32 * 1x1x32x64`,
      macs,
      fast,
    });
  }
  return { quick, kernel: matmulU32Kernel(), node: process.version, cases };
}

const fmtMs = (t: Timing): string =>
  `${t.medianMs.toFixed(3)} ms [${t.minMs.toFixed(3)}, ${t.maxMs.toFixed(3)}]`;

/** A plain-text table of a {@link GemmBenchResult}. */
export function formatGemmBench(r: GemmBenchResult): string {
  const lines = [
    `ring kernels over Z_2^32, one core, node ${r.node}, default GEMM kernel ${r.kernel}${r.quick ? " (quick)" : ""}`,
    "median [min, max] per call; GMAC/s = 10^9 multiply-adds per second at the median",
  ];
  for (const c of r.cases) {
    lines.push(`${c.name}: ${c.shape} (${(c.macs / 1e6).toFixed(1)} M MAC)`);
    lines.push(`  fast  ${fmtMs(c.fast)}  ${c.fast.gmacPerSec.toFixed(2)} GMAC/s`);
    if (c.js) {
      lines.push(`  js    ${fmtMs(c.js)}  ${c.js.gmacPerSec.toFixed(2)} GMAC/s`);
    }
    if (c.naive && c.speedup !== undefined) {
      lines.push(`  naive ${fmtMs(c.naive)}  ${c.naive.gmacPerSec.toFixed(2)} GMAC/s`);
      lines.push(`  fast / naive speedup: ${c.speedup.toFixed(2)}x`);
      if (c.js) {
        const vsJs = c.js.medianMs / c.fast.medianMs;
        const jsVsNaive = c.naive.medianMs / c.js.medianMs;
        lines.push(
          `  js / naive speedup: ${jsVsNaive.toFixed(2)}x; fast / js: ${vsJs.toFixed(2)}x`,
        );
      }
    }
  }
  return lines.join("\n");
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name("bench-gemm")
    .description("benchmark the Z_2^32 ring GEMM and conv kernels against naive loops")
    .option("--quick", "smaller batch and fewer repeats", false)
    .option("--json", "print the result as JSON", false);
  program.parse(argv);
  const opts = program.opts<{ quick: boolean; json: boolean }>();
  const result = await benchGemm({ quick: opts.quick });
  console.log(opts.json ? JSON.stringify(result, null, 2) : formatGemmBench(result));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
