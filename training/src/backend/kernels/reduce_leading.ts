import * as tf from "@tensorflow/tfjs";
import { asTensor, asWasm, heapTensor, type KernelArgs, kernelOutput } from "./util";

/**
 * Column sums: x viewed as [outer, inner] row-major, out[j] = scale * sum_i x[i*inner + j]
 * (float64 accumulators). The fallback for rows wider than {@link MAX_POOL_CHANNELS}.
 */
export function sumLeadingMath(
  x: Float32Array,
  outer: number,
  inner: number,
  scale: number,
  out: Float32Array,
): void {
  const acc = new Float64Array(inner);
  for (let i = 0; i < outer; i++) {
    const base = i * inner;
    for (let j = 0; j < inner; j++) acc[j]! += x[base + j]!;
  }
  for (let j = 0; j < inner; j++) out[j] = acc[j]! * scale;
}

/**
 * Widest row the average-pool path takes. wasm's AvgPool (XNNPACK) writes out of bounds
 * somewhere between 16385 and 20000 channels here (measured: "memory access out of
 * bounds", and the heap is corrupt after it); wider rows use the JS column sums.
 */
export const MAX_POOL_CHANNELS = 4096;

/**
 * Split `outer` rows into a x b (a*b = outer, b the largest divisor <= sqrt(outer)) so the
 * column sum runs as two short reductions instead of one long one: float32 error
 * grows with the length of each reduction. b = 1 for small or prime `outer`.
 */
export function splitRows(outer: number): [number, number] {
  if (outer < 1024) return [outer, 1];
  for (let b = Math.floor(Math.sqrt(outer)); b > 1; b--) if (outer % b === 0) return [outer / b, b];
  return [outer, 1];
}

/**
 * Column sums of x viewed as [outer, inner], times `scale`, as two average pools on wasm
 * (XNNPACK, SIMD over the channels): x as [a, b, 1, inner] pooled over [b, 1], then the a
 * means pooled again; the mean of the means times outer*scale. About 10x faster than
 * column sums in a JS loop; a GEMM with a ones vector is slower still here (it packs x).
 * Rows wider than {@link MAX_POOL_CHANNELS} go to the JS loop.
 */
export function columnSums(x: tf.Tensor, outer: number, inner: number, scale: number): tf.Tensor {
  if (inner > MAX_POOL_CHANNELS) {
    const wasm = asWasm(tf.backend());
    return heapTensor(wasm, [inner], (o) =>
      sumLeadingMath(wasm.typedArrayFromHeap(x) as Float32Array, outer, inner, scale, o),
    );
  }
  return tf.tidy(() => {
    const [a, b] = splitRows(outer);
    let m = x.reshape([a, b, 1, inner]) as tf.Tensor4D;
    if (b > 1) m = tf.avgPool(m, [b, 1], 1, "valid") as tf.Tensor4D;
    m = tf.avgPool(m.reshape([1, a, 1, inner]) as tf.Tensor4D, [a, 1], 1, "valid") as tf.Tensor4D;
    const f = outer * scale;
    return f === 1 ? m.reshape([inner]) : tf.mul(m.reshape([inner]), f);
  });
}

/** The number of leading axes `axis` reduces, or -1 if it is not exactly a leading prefix. */
export function leadingPrefix(axis: number | number[], rank: number): number {
  const axes = [
    ...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a))),
  ];
  axes.sort((p, q) => p - q);
  return axes.every((a, i) => a === i) ? axes.length : -1;
}

/**
 * Sum or Mean over leading axes of a float32 tensor by {@link columnSums}; any other
 * reduction goes to wasm's own kernel. wasm transposes the reduced axes to the end first,
 * which makes the batch-norm reductions over N, H, W several times slower.
 */
export function makeLeadingReduceConfig(
  kernelName: string,
  original: tf.KernelConfig,
  mean: boolean,
): tf.KernelConfig {
  return {
    kernelName,
    backendName: "wasm",
    kernelFunc: (args: KernelArgs) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
      const k = leadingPrefix(axis, x.shape.length);
      if (x.dtype !== "float32" || k <= 0) return original.kernelFunc(args);
      const outer = x.shape.slice(0, k).reduce((p, q) => p * q, 1);
      const rest = x.shape.slice(k);
      const inner = rest.reduce((p, q) => p * q, 1);
      if (outer === 0) return original.kernelFunc(args);
      const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest;
      const wasm = asWasm(args.backend);
      const out = tf.tidy(() =>
        columnSums(asTensor(x), outer, inner, mean ? 1 / outer : 1).reshape(outShape),
      );
      return kernelOutput(wasm, out);
    },
  };
}
