import type * as tf from "@tensorflow/tfjs";
import { asWasm, type KernelArgs } from "./util";

/**
 * Column sums: x viewed as [outer, inner] row-major, out[j] = scale * sum_i x[i*inner + j]
 * (float64 accumulators). This is the batch-norm reduction over N, H, W of an NHWC tensor.
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

/** The number of leading axes `axis` reduces, or -1 if it is not exactly a leading prefix. */
export function leadingPrefix(axis: number | number[], rank: number): number {
  const axes = [
    ...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a))),
  ];
  axes.sort((p, q) => p - q);
  return axes.every((a, i) => a === i) ? axes.length : -1;
}

/**
 * Sum or Mean over leading axes of a float32 tensor by column sums on the wasm heap; any
 * other reduction goes to wasm's own kernel. wasm transposes the reduced axes to the end
 * first, which makes the batch-norm reductions over N, H, W several times slower.
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
      const wasm = asWasm(args.backend);
      const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest;
      const out = wasm.makeOutput(outShape, "float32");
      sumLeadingMath(
        wasm.typedArrayFromHeap(x) as Float32Array,
        outer,
        inner,
        mean ? 1 / outer : 1,
        wasm.typedArrayFromHeap(out) as Float32Array,
      );
      return out;
    },
  };
}
