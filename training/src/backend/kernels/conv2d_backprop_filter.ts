import * as tf from "@tensorflow/tfjs";
import { geometry, patchViews } from "./patches";
import { opsKernel } from "./util";

/** Batch chunks keep the im2col matrix under this many floats (256 MB). */
const MAX_PATCH_FLOATS = 64 * 1024 * 1024;

/**
 * dW of a 2-D convolution (NHWC, filter [kh, kw, Cin, Cout]) by im2col + one GEMM:
 * dW^T = dy^T [Cout, M] x patches [M, kh*kw*Cin], with both transposes done explicitly
 * (wasm's BatchMatMul with transposeA/B is an order of magnitude slower than plain).
 * Large batches are split so the patch matrix stays bounded; partial sums are added.
 */
export function conv2dBackpropFilterOps(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: tf.Conv2DBackpropFilterAttrs,
): tf.Tensor4D {
  if (attrs.dataFormat === "NCHW") throw new Error("Conv2DBackpropFilter: only NHWC is supported");
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const g = geometry(info);
  const [kh, kw, cin, cout] = attrs.filterShape;
  const [n] = x.shape;
  const perImage = g.outH * g.outW * kh * kw * cin;
  const chunk = Math.max(1, Math.min(n, Math.floor(MAX_PATCH_FLOATS / perImage)));
  let acc: tf.Tensor2D | null = null;
  for (let b0 = 0; b0 < n; b0 += chunk) {
    const b = Math.min(chunk, n - b0);
    const part = tf.tidy(() => {
      const xs = b === n ? x : tf.slice(x, [b0, 0, 0, 0], [b, -1, -1, -1]);
      const dys = b === n ? dy : tf.slice(dy, [b0, 0, 0, 0], [b, -1, -1, -1]);
      const views = patchViews(xs, g);
      const m = b * g.outH * g.outW;
      const patches = (views.length === 1 ? views[0]! : tf.concat(views, 3)).reshape([
        m,
        kh * kw * cin,
      ]);
      const dyT = tf.transpose(dys.reshape([m, cout]));
      return tf.matMul(dyT, patches) as tf.Tensor2D; // [Cout, kh*kw*Cin]
    });
    if (acc == null) acc = part;
    else {
      const next: tf.Tensor2D = tf.add(acc, part);
      acc.dispose();
      part.dispose();
      acc = next;
    }
  }
  return tf.transpose(acc!).reshape([kh, kw, cin, cout]);
}

export const conv2dBackpropFilterConfig = opsKernel(tf.Conv2DBackpropFilter, (inp, attrs) =>
  conv2dBackpropFilterOps(
    inp.x as tf.Tensor4D,
    inp.dy as tf.Tensor4D,
    attrs as unknown as tf.Conv2DBackpropFilterAttrs,
  ),
);
