import * as tf from "@tensorflow/tfjs";
import { dilateAndPad, flipFilter, opsKernel } from "./util";

/**
 * dx of a depthwise convolution (NHWC, filter [kh, kw, C, m]): zero-inserted, padded
 * output gradient correlated (stride 1, VALID) with the spatially flipped filter, one
 * depthwise conv over the C*m gradient channels, then summed over the multiplier.
 */
export function depthwiseBackpropInputOps(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  attrs: tf.DepthwiseConv2dNativeBackpropInputAttrs,
): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const [kh, kw, c, m] = filter.shape;
  const z = dilateAndPad(
    dy,
    [info.strideHeight, info.strideWidth],
    info.inHeight,
    info.inWidth,
    info.effectiveFilterHeight,
    info.effectiveFilterWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
  const wf = flipFilter(filter, false).reshape([kh, kw, c * m, 1]) as tf.Tensor4D;
  const g = tf.depthwiseConv2d(z, wf, 1, "valid", "NHWC", [
    info.dilationHeight,
    info.dilationWidth,
  ]);
  if (m === 1) return g;
  const [n, h, w] = g.shape;
  return g.reshape([n, h, w, c, m]).sum(4) as tf.Tensor4D;
}

export const depthwiseBackpropInputConfig = opsKernel(
  tf.DepthwiseConv2dNativeBackpropInput,
  (inp, attrs) =>
    depthwiseBackpropInputOps(
      inp.dy as tf.Tensor4D,
      inp.filter as tf.Tensor4D,
      attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs,
    ),
);
