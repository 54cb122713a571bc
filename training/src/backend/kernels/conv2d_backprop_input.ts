import * as tf from "@tensorflow/tfjs";
import { dilateAndPad, flipFilter, opsKernel } from "./util";

/**
 * dx of a 2-D convolution (NHWC), as a forward conv: the output gradient with (s-1) zeros
 * inserted and padded, correlated (stride 1, VALID) with the filter flipped in space and
 * with in/out channels swapped. wasm's own Conv2DBackpropInput is several times slower.
 */
export function conv2dBackpropInputOps(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  attrs: tf.Conv2DBackpropInputAttrs,
): tf.Tensor4D {
  if (attrs.dataFormat === "NCHW") throw new Error("Conv2DBackpropInput: only NHWC is supported");
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const z = dilateAndPad(
    dy,
    [info.strideHeight, info.strideWidth],
    info.inHeight,
    info.inWidth,
    info.filterHeight,
    info.filterWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
  const wf = flipFilter(filter, true);
  return tf.conv2d(z, wf, 1, "valid");
}

export const conv2dBackpropInputConfig = opsKernel(tf.Conv2DBackpropInput, (inp, attrs) =>
  conv2dBackpropInputOps(
    inp.dy as tf.Tensor4D,
    inp.filter as tf.Tensor4D,
    attrs as unknown as tf.Conv2DBackpropInputAttrs,
  ),
);
