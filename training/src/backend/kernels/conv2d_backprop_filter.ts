import * as tf from "@tensorflow/tfjs";
import { geometry, im2colT } from "./patches";
import { asTensor, asWasm, heapTensor, type KernelArgs, kernelOutput } from "./util";

/** Batch chunks keep the patch matrix under this many floats (default 128 MB). */
let maxPatchFloats = 32 * 1024 * 1024;

/** Change the patch-matrix budget (tests use a tiny one to exercise chunking); returns the old. */
export function setPatchBudget(floats: number): number {
  const old = maxPatchFloats;
  maxPatchFloats = floats;
  return old;
}

/**
 * dW of a 2-D convolution (NHWC, filter [kh, kw, Cin, Cout]): transposed im2col written
 * straight into the wasm heap (a JS loop: wasm's StridedSlice/Concat are slow for this),
 * then one plain GEMM per batch chunk, dW [K, Cout] = patches^T [K, M] x dy [M, Cout]
 * on wasm's BatchMatMul (no transpose flags: that path is ~10x slower). Chunks are summed.
 */
function conv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (a.dataFormat === "NCHW") throw new Error("Conv2DBackpropFilter: only NHWC is supported");
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    a.filterShape,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const g = geometry(info);
  const [kh, kw, cin, cout] = a.filterShape;
  const K = kh * kw * cin;
  const perImage = g.outH * g.outW;
  const chunk = Math.max(1, Math.min(g.n, Math.floor(maxPatchFloats / (perImage * K))));
  const wasm = asWasm(backend);
  const out = tf.tidy(() => {
    const dyT = asTensor(dy);
    let acc: tf.Tensor2D | null = null;
    for (let b0 = 0; b0 < g.n; b0 += chunk) {
      const nb = Math.min(chunk, g.n - b0);
      const M = nb * perImage;
      const pt = heapTensor<tf.Rank.R2>(wasm, [K, M], (o) =>
        im2colT(wasm.typedArrayFromHeap(x) as Float32Array, g, b0, nb, o),
      );
      const dys = (nb === g.n ? dyT : tf.slice(dyT, [b0, 0, 0, 0], [nb, -1, -1, -1])).reshape([
        M,
        cout,
      ]);
      const part = tf.matMul(pt, dys) as tf.Tensor2D;
      acc = acc == null ? part : (tf.add(acc, part) as tf.Tensor2D);
    }
    return acc!.reshape([kh, kw, cin, cout]);
  });
  return kernelOutput(wasm, out);
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: "wasm",
  kernelFunc: conv2dBackpropFilter,
};
