import * as tf from "@tensorflow/tfjs";
import { geometry, type PatchGeometry } from "./patches";
import { asWasm, heapTensor, type KernelArgs, kernelOutput } from "./util";

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
  const out = heapTensor(wasm, [...a.filterShape], (o) =>
    depthwiseFilterGradMath(
      wasm.typedArrayFromHeap(x) as Float32Array,
      wasm.typedArrayFromHeap(dy) as Float32Array,
      geometry(info),
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
