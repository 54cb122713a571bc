import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

export type KernelArgs = Parameters<tf.KernelFunc>[0];
export type Tensor4D = tf.Tensor4D;

/** A kernel input as a tf.Tensor (the engine passes Tensors; wrap a bare TensorInfo, ref-counted). */
export function asTensor<T extends tf.Tensor = tf.Tensor>(info: tf.TensorInfo): T {
  if (info instanceof tf.Tensor) return info as T;
  tf.engine().backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info) as T;
}

/**
 * A kernel written with tf ops (each runs on wasm's own kernels). The ops run inside
 * tf.tidy and outside the gradient tape (the engine is inside a kernel); the result's
 * buffer gets one more reference before its Tensor is disposed, so the engine can own it.
 */
export function opsKernel(
  kernelName: string,
  fn: (inputs: Record<string, tf.Tensor>, attrs: KernelArgs["attrs"]) => tf.Tensor,
): tf.KernelConfig {
  return {
    kernelName,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }: KernelArgs) => {
      const out = tf.tidy(() => {
        const ts: Record<string, tf.Tensor> = {};
        for (const [k, v] of Object.entries(inputs)) if (v != null) ts[k] = asTensor(v);
        return fn(ts, attrs);
      });
      return kernelOutput(asWasm(backend), out);
    },
  };
}

/** The wasm backend as the typed object tfjs-backend-wasm declares. */
export function asWasm(backend: unknown): BackendWasm {
  return backend as BackendWasm;
}

/**
 * A new float32 tensor on the wasm heap whose values `fill` writes in JS. `fill` gets the
 * output view (taken after allocation, so it is not detached by heap growth) and the
 * backend, to take its own views of inputs with `typedArrayFromHeap`.
 */
export function heapTensor<R extends tf.Rank>(
  backend: BackendWasm,
  shape: number[],
  fill: (out: Float32Array) => void,
): tf.Tensor<R> {
  const info = backend.makeOutput(shape, "float32");
  fill(backend.typedArrayFromHeap(info) as Float32Array);
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>;
}

/** Hand a Tensor made inside a kernel to the engine as the kernel's output. */
export function kernelOutput(backend: BackendWasm, t: tf.Tensor): tf.TensorInfo {
  backend.incRef(t.dataId);
  t.dispose();
  return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
}

export function pair(v: number | [number, number]): [number, number] {
  return typeof v === "number" ? [v, v] : v;
}

/**
 * Insert (s-1) zeros between the rows/columns of `dy` (NHWC) and pad it so that a stride-1
 * VALID correlation with the flipped filter gives the gradient wrt the conv input.
 * `effH/effW` are the dilated filter sizes, `padTop/padLeft` the forward padding.
 */
export function dilateAndPad(
  dy: tf.Tensor4D,
  strides: [number, number],
  inH: number,
  inW: number,
  effH: number,
  effW: number,
  padTop: number,
  padLeft: number,
): tf.Tensor4D {
  const [n, oh, ow, c] = dy.shape;
  const [sh, sw] = strides;
  let z: tf.Tensor4D = dy;
  if (sh > 1 || sw > 1) {
    z = tf
      .pad(dy.reshape([n, oh, 1, ow, 1, c]), [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ])
      .reshape([n, oh * sh, ow * sw, c]);
  }
  // Position t of the padded tensor holds z[t - before]; we need t in [0, in + eff - 1).
  const beforeH = effH - 1 - padTop;
  const beforeW = effW - 1 - padLeft;
  const needH = inH + effH - 1;
  const needW = inW + effW - 1;
  const afterH = needH - beforeH - z.shape[1];
  const afterW = needW - beforeW - z.shape[2];
  if (beforeH < 0 || beforeW < 0) throw new Error("dilateAndPad: padding larger than the filter");
  z = tf.pad(z, [
    [0, 0],
    [beforeH, Math.max(0, afterH)],
    [beforeW, Math.max(0, afterW)],
    [0, 0],
  ]);
  if (afterH < 0 || afterW < 0) z = tf.slice(z, [0, 0, 0, 0], [n, needH, needW, c]);
  return z;
}

/**
 * out[i, j, a, b] = f[kh-1-i, kw-1-j, a, b] (or f[kh-1-i, kw-1-j, b, a] with `swapIO`):
 * the filter flipped in space, in/out channels optionally swapped, by a JS loop over the
 * heap. Filters are small; wasm's Reverse took ~2 ms for a 3x3x128x128 filter.
 */
export function flipFilterMath(
  f: Float32Array,
  shape: readonly [number, number, number, number],
  swapIO: boolean,
  out: Float32Array,
): void {
  const [kh, kw, ci, co] = shape;
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const src = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
      const dst = (i * kw + j) * ci * co;
      if (!swapIO) {
        out.set(f.subarray(src, src + ci * co), dst);
        continue;
      }
      for (let a = 0; a < ci; a++)
        for (let b = 0; b < co; b++) out[dst + b * ci + a] = f[src + a * co + b]!;
    }
}

/** {@link flipFilterMath} of a float32 filter on the wasm backend, as a new tensor. */
export function flipFilter(filter: tf.Tensor4D, swapIO: boolean): tf.Tensor4D {
  const wasm = asWasm(tf.backend());
  const [kh, kw, ci, co] = filter.shape;
  return heapTensor<tf.Rank.R4>(wasm, swapIO ? [kh, kw, co, ci] : [kh, kw, ci, co], (o) =>
    flipFilterMath(wasm.typedArrayFromHeap(filter) as Float32Array, filter.shape, swapIO, o),
  );
}
