import * as tf from "@tensorflow/tfjs";
import { asWasm, type KernelArgs } from "./util";

type Typed = Float32Array | Int32Array | Uint8Array;

/** Shortest contiguous run (elements) worth a TypedArray.set; shorter runs go to wasm. */
const MIN_RUN = 16;

/**
 * Copy the slice [begin, begin + size) of a row-major `x` of `shape` into `out`, one
 * TypedArray.set per contiguous run: the axes after the last partially-sliced axis are
 * whole, so each run is size[k] * (product of the later dims) elements.
 * Returns false (nothing written) when the runs are shorter than `minRun`.
 */
export function sliceRuns(
  x: Typed,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  out: Typed,
  minRun = MIN_RUN,
): boolean {
  const rank = shape.length;
  let k = rank - 1;
  while (k > 0 && begin[k] === 0 && size[k] === shape[k]) k--;
  const strides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  const run = size[k]! * strides[k]!;
  if (run < minRun && k > 0) return false;
  const idx = new Array<number>(k).fill(0);
  let runs = 1;
  for (let i = 0; i < k; i++) runs *= size[i]!;
  let o = 0;
  for (let r = 0; r < runs; r++) {
    let src = begin[k]! * strides[k]!;
    for (let i = 0; i < k; i++) src += (begin[i]! + idx[i]!) * strides[i]!;
    out.set(x.subarray(src, src + run), o);
    o += run;
    for (let i = k - 1; i >= 0; i--) {
      if (++idx[i]! < size[i]!) break;
      idx[i] = 0;
    }
  }
  return true;
}

/**
 * Slice as block copies over the wasm heap (wasm's Slice runs ~5-10x slower than a memcpy
 * on the crops a training step makes: the gradient of the -1 padding, dilateAndPad).
 * Short runs and strings go to wasm's kernel.
 */
export function makeSliceConfig(original: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.Slice,
    backendName: "wasm",
    kernelFunc: (args: KernelArgs) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
      if (x.dtype === "string" || x.dtype === "complex64") return original.kernelFunc(args);
      const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
      if (s.some((d) => d === 0) || x.shape.length === 0) return original.kernelFunc(args);
      const wasm = asWasm(args.backend);
      const out = wasm.makeOutput(s, x.dtype);
      const ok = sliceRuns(
        wasm.typedArrayFromHeap(x) as Typed,
        x.shape,
        b,
        s,
        wasm.typedArrayFromHeap(out) as Typed,
      );
      if (ok) return out;
      wasm.disposeData(out.dataId);
      return original.kernelFunc(args);
    },
  };
}
