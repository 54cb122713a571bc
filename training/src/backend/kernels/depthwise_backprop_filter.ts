import * as tf from "@tensorflow/tfjs";
import { geometry, patchViews } from "./patches";
import { opsKernel } from "./util";

/**
 * dW of a depthwise convolution (NHWC, filter [kh, kw, C, m]):
 * dW[i, j, c, q] = sum over n, oh, ow of view_ij[n, oh, ow, c] * dy[n, oh, ow, c*m + q],
 * one multiply + reduction per filter tap.
 */
export function depthwiseBackpropFilterOps(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: tf.DepthwiseConv2dNativeBackpropFilterAttrs,
): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    attrs.filterShape,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const g = geometry(info);
  const [kh, kw, c, m] = attrs.filterShape;
  const [n] = x.shape;
  const dy5 = m === 1 ? dy : dy.reshape([n, g.outH, g.outW, c, m]);
  const taps = patchViews(x, g).map((v) =>
    m === 1 ? tf.sum(tf.mul(v, dy5), [0, 1, 2]) : tf.sum(tf.mul(v.expandDims(4), dy5), [0, 1, 2]),
  );
  return tf.stack(taps).reshape([kh, kw, c, m]);
}

export const depthwiseBackpropFilterConfig = opsKernel(
  tf.DepthwiseConv2dNativeBackpropFilter,
  (inp, attrs) =>
    depthwiseBackpropFilterOps(
      inp.x as tf.Tensor4D,
      inp.dy as tf.Tensor4D,
      attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs,
    ),
);
