import * as tf from "@tensorflow/tfjs";
import { geometry, im2colT, type PatchGeometry } from "./patches";
import { asTensor, asWasm, heapTensor, type KernelArgs, kernelOutput } from "./util";

/** Batch chunks keep the patch matrix under this many floats (default 128 MB). */
let maxPatchFloats = 32 * 1024 * 1024;

/** Change the patch-matrix budget (tests use a tiny one to exercise chunking); returns the old. */
export function setPatchBudget(floats: number): number {
  const old = maxPatchFloats;
  maxPatchFloats = floats;
  return old;
}

/** Which way the filter gradient is computed: by size (`auto`), or forced (tests). */
export type ConvFilterMethod = "auto" | "im2col" | "conv";
let method: ConvFilterMethod = "auto";

export function setConvFilterMethod(m: ConvFilterMethod): ConvFilterMethod {
  const old = method;
  method = m;
  return old;
}

/**
 * `auto`: the conv form for stride 1, at least 8 input channels, a filter wider than 1x1
 * and at least 16x16 output positions (measured here: 1.3-2x faster than im2col on
 * 32x32x16-32 and 16x16x64 layers, slower on 8x8 and smaller, and on 3-channel inputs).
 */
export function useConvForm(g: PatchGeometry, m: ConvFilterMethod = method): boolean {
  if (m !== "auto") return m === "conv";
  return g.sh === 1 && g.sw === 1 && g.c >= 8 && g.kh * g.kw > 1 && g.outH * g.outW >= 256;
}

/**
 * The filter gradient as one forward convolution (wasm's Conv2D, XNNPACK), batch and
 * channels swapped: dW[i, j, ci, co] = sum over n, oh, ow of
 * x_pad[n, oh*sh + i, ow*sw + j, ci] * dy[n, oh, ow, co] is a VALID correlation of
 * I = x_pad transposed to [Cin, Hp, Wp, N] with the filter F = dy transposed to
 * [outH, outW, N, Cout] at dilation (sh, sw): output [Cin, kh, kw, Cout], transposed back.
 */
export function conv2dFilterGradByConv(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  g: PatchGeometry,
  cout: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const hp = (g.outH - 1) * g.sh + g.kh;
    const wp = (g.outW - 1) * g.sw + g.kw;
    const bottom = hp - g.padTop - g.h;
    const right = wp - g.padLeft - g.w;
    let xp = tf.pad(x, [
      [0, 0],
      [g.padTop, Math.max(0, bottom)],
      [g.padLeft, Math.max(0, right)],
      [0, 0],
    ]);
    if (bottom < 0 || right < 0) xp = tf.slice(xp, [0, 0, 0, 0], [g.n, hp, wp, g.c]);
    const inp = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D;
    const filt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const o = tf.conv2d(inp, filt, 1, "valid", "NHWC", [g.sh, g.sw]);
    const dw = tf.transpose(o, [1, 2, 0, 3]) as tf.Tensor4D;
    if (dw.shape[0] !== g.kh || dw.shape[1] !== g.kw || dw.shape[3] !== cout)
      throw new Error(`Conv2DBackpropFilter: conv form gave shape ${dw.shape}`);
    return dw;
  });
}

/**
 * dW of a 2-D convolution (NHWC, filter [kh, kw, Cin, Cout]): {@link conv2dFilterGradByConv}
 * where {@link useConvForm} says so, else transposed im2col written
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
  if (kh === 1 && kw === 1 && g.sh === 1 && g.sw === 1 && g.padTop === 0 && g.padLeft === 0) {
    // 1x1, stride 1, no padding (pointwise convs): dW = x^T dy, with wasm's Transpose
    // (~2x faster than the JS im2col, which for 1x1 is the same transpose) and a plain GEMM.
    const wasm1 = asWasm(backend);
    const r = tf.tidy(() =>
      tf
        .matMul(
          asTensor(x).reshape([g.n * g.h * g.w, cin]),
          asTensor(dy).reshape([g.n * g.outH * g.outW, cout]),
          true,
          false,
        )
        .reshape([1, 1, cin, cout]),
    );
    return kernelOutput(wasm1, r);
  }
  if (useConvForm(g) && g.dh === 1 && g.dw === 1) {
    const wasm0 = asWasm(backend);
    const r = tf.tidy(() => conv2dFilterGradByConv(asTensor(x), asTensor(dy), g, cout));
    return kernelOutput(wasm0, r);
  }
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
