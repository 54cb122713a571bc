import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { geometry, type PatchGeometry } from "./patches";
import { columnSums } from "./reduce_leading";
import { asTensor, asWasm, heapTensor, type KernelArgs, kernelOutput } from "./util";

/**
 * dW of a depthwise convolution (NHWC, filter [kh, kw, C, m]), a direct loop:
 * dW[i, j, c, q] = sum over n, oh, ow of x_pad[n, oh*sh + i*dh, ow*sw + j*dw, c] * dy[n, oh, ow, c*m + q].
 * Only kh*kw*N*outH*outW*C*m multiply-adds: memory-bound, so a JS loop over the wasm heap
 * beats a chain of wasm StridedSlice/Multiply/Sum kernels by an order of magnitude.
 */
export function depthwiseFilterGradMath(
  x: Float32Array,
  dy: Float32Array,
  g: PatchGeometry,
  m: number,
  dw: Float32Array,
): void {
  const cm = g.c * m;
  dw.fill(0);
  for (let b = 0; b < g.n; b++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const dyBase = ((b * g.outH + oh) * g.outW + ow) * cm;
        for (let i = 0; i < g.kh; i++) {
          const r = oh * g.sh + i * g.dh - g.padTop;
          if (r < 0 || r >= g.h) continue;
          for (let j = 0; j < g.kw; j++) {
            const col = ow * g.sw + j * g.dw - g.padLeft;
            if (col < 0 || col >= g.w) continue;
            const xBase = ((b * g.h + r) * g.w + col) * g.c;
            const wBase = (i * g.kw + j) * cm;
            if (m === 1) {
              for (let c = 0; c < g.c; c++) dw[wBase + c]! += x[xBase + c]! * dy[dyBase + c]!;
            } else {
              for (let c = 0; c < g.c; c++) {
                const xv = x[xBase + c]!;
                for (let q = 0; q < m; q++) dw[wBase + c * m + q]! += xv * dy[dyBase + c * m + q]!;
              }
            }
          }
        }
      }
    }
  }
}

/**
 * The same gradient for stride 1 and multiplier 1 with wasm's SIMD ops, tap by tap.
 * x is padded (or cropped) to [N, Hp, Wp, C] with Hp = outH + (kh-1)*dh, and dy padded with
 * zeros at the bottom/right to the same [N, Hp, Wp, C] grid. Flattened to rows of C values,
 * tap (i, j) reads x at a fixed row offset off = i*dh*Wp + j*dw from dy's row, so
 * dW[i, j, :] = column sums of (x rows [off, off + R')) * (dy rows [0, R')), R' = N*Hp*Wp
 * minus the largest offset: the rows that wrap into the next image row or image meet
 * dy's zero padding. Per tap one memcpy (JS TypedArray.set), one Multiply, one column sum
 * by GEMM: ~3x faster than the direct loop.
 */
export function depthwiseFilterGradByTaps(
  wasm: BackendWasm,
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  g: PatchGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const effH = (g.kh - 1) * g.dh + 1;
    const effW = (g.kw - 1) * g.dw + 1;
    const hp = g.outH + effH - 1;
    const wp = g.outW + effW - 1;
    const bottom = hp - g.padTop - g.h;
    const right = wp - g.padLeft - g.w;
    let xp = tf.pad(x, [
      [0, 0],
      [g.padTop, Math.max(0, bottom)],
      [g.padLeft, Math.max(0, right)],
      [0, 0],
    ]);
    if (bottom < 0 || right < 0) xp = tf.slice(xp, [0, 0, 0, 0], [g.n, hp, wp, g.c]);
    const dyp = tf.pad(dy, [
      [0, 0],
      [0, hp - g.outH],
      [0, wp - g.outW],
      [0, 0],
    ]);
    const rows = g.n * hp * wp - ((effH - 1) * wp + effW - 1);
    const len = rows * g.c;
    const d = heapTensor(wasm, [rows, g.c], (o) =>
      o.set((wasm.typedArrayFromHeap(dyp) as Float32Array).subarray(0, len)),
    );
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const off = (i * g.dh * wp + j * g.dw) * g.c;
        const xs = heapTensor(wasm, [rows, g.c], (o) =>
          o.set((wasm.typedArrayFromHeap(xp) as Float32Array).subarray(off, off + len)),
        );
        taps.push(columnSums(tf.mul(xs, d), rows, g.c, 1));
      }
    }
    return tf.stack(taps).reshape([g.kh, g.kw, g.c, 1]) as tf.Tensor4D;
  });
}

function depthwiseBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    a.filterShape,
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    true,
  );
  const wasm = asWasm(backend);
  const g = geometry(info);
  if (g.sh === 1 && g.sw === 1 && a.filterShape[3] === 1 && x.dtype === "float32") {
    const out = tf.tidy(() => depthwiseFilterGradByTaps(wasm, asTensor(x), asTensor(dy), g));
    return kernelOutput(wasm, out);
  }
  const out = heapTensor(wasm, [...a.filterShape], (o) =>
    depthwiseFilterGradMath(
      wasm.typedArrayFromHeap(x) as Float32Array,
      wasm.typedArrayFromHeap(dy) as Float32Array,
      g,
      a.filterShape[3],
      o,
    ),
  );
  return kernelOutput(wasm, out);
}

export const depthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: "wasm",
  kernelFunc: depthwiseBackpropFilter,
};
