import * as tf from "@tensorflow/tfjs";

/** Geometry shared by the filter-gradient kernels (from tfjs's Conv2DInfo). */
export interface PatchGeometry {
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  strides: [number, number];
  dilations: [number, number];
  pad: { top: number; bottom: number; left: number; right: number };
}

export function geometry(info: tf.backend_util.Conv2DInfo): PatchGeometry {
  return {
    outH: info.outHeight,
    outW: info.outWidth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    strides: [info.strideHeight, info.strideWidth],
    dilations: [info.dilationHeight, info.dilationWidth],
    pad: info.padInfo,
  };
}

/**
 * The kh*kw shifted, strided views of the padded input: view (i, j) has shape
 * [N, outH, outW, C] and holds x_pad[n, oh*sh + i*dh, ow*sw + j*dw, c]. Row-major (i, j) order.
 */
export function patchViews(x: tf.Tensor4D, g: PatchGeometry): tf.Tensor4D[] {
  const [n, , , c] = x.shape;
  const { pad, strides, dilations } = g;
  const xp =
    pad.top || pad.bottom || pad.left || pad.right
      ? tf.pad(x, [
          [0, 0],
          [pad.top, pad.bottom],
          [pad.left, pad.right],
          [0, 0],
        ])
      : x;
  const views: tf.Tensor4D[] = [];
  for (let i = 0; i < g.kh; i++) {
    for (let j = 0; j < g.kw; j++) {
      const r0 = i * dilations[0];
      const c0 = j * dilations[1];
      views.push(
        tf.stridedSlice(
          xp,
          [0, r0, c0, 0],
          [n, r0 + (g.outH - 1) * strides[0] + 1, c0 + (g.outW - 1) * strides[1] + 1, c],
          [1, strides[0], strides[1], 1],
        ) as tf.Tensor4D,
      );
    }
  }
  return views;
}
