import type * as tf from "@tensorflow/tfjs";

/** Geometry of a 2-D convolution's input patches (NHWC), from tfjs's Conv2DInfo. */
export interface PatchGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padTop: number;
  padLeft: number;
}

export function geometry(info: tf.backend_util.Conv2DInfo): PatchGeometry {
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    c: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Transposed im2col of images [b0, b0+nb): out[k * M + m] = x_pad[n, oh*sh + i*dh, ow*sw + j*dw, c]
 * with k = (i*kw + j)*C + c, m = ((n-b0)*outH + oh)*outW + ow, M = nb*outH*outW; zero where
 * the tap falls in the padding. Row k of the result is contiguous, so the filter gradient
 * is one plain GEMM: patches^T [K, M] x dy [M, Cout].
 */
export function im2colT(
  x: Float32Array,
  g: PatchGeometry,
  b0: number,
  nb: number,
  out: Float32Array,
) {
  const M = nb * g.outH * g.outW;
  const K = g.kh * g.kw * g.c;
  if (out.length < K * M) throw new Error("im2colT: output too small");
  for (let i = 0; i < g.kh; i++) {
    for (let j = 0; j < g.kw; j++) {
      for (let c = 0; c < g.c; c++) {
        const row = ((i * g.kw + j) * g.c + c) * M;
        let m = 0;
        for (let b = b0; b < b0 + nb; b++) {
          const xb = b * g.h * g.w * g.c + c;
          for (let oh = 0; oh < g.outH; oh++) {
            const r = oh * g.sh + i * g.dh - g.padTop;
            if (r < 0 || r >= g.h) {
              out.fill(0, row + m, row + m + g.outW);
              m += g.outW;
              continue;
            }
            const xr = xb + r * g.w * g.c;
            for (let ow = 0; ow < g.outW; ow++, m++) {
              const col = ow * g.sw + j * g.dw - g.padLeft;
              out[row + m] = col >= 0 && col < g.w ? x[xr + col * g.c]! : 0;
            }
          }
        }
      }
    }
  }
}
