import * as tf from "@tensorflow/tfjs";
import { opsKernel } from "./util";

/**
 * Batch normalisation y = (x - mean) * scale / sqrt(variance + eps) + offset as three
 * broadcast float ops over x (Sub, Mul, Add; the per-channel factor is computed on the
 * small tensors first). wasm's own FusedBatchNorm runs about 8x slower than one such op.
 */
export function batchNormOps(
  inp: Record<string, tf.Tensor>,
  attrs: tf.FusedBatchNormAttrs,
): tf.Tensor {
  const { x, mean, variance, offset, scale } = inp as {
    x: tf.Tensor;
    mean: tf.Tensor;
    variance: tf.Tensor;
    offset?: tf.Tensor;
    scale?: tf.Tensor;
  };
  const r = tf.rsqrt(tf.add(variance, attrs.varianceEpsilon));
  const factor = scale == null ? r : tf.mul(scale, r);
  const y = tf.mul(tf.sub(x, mean), factor);
  return offset == null ? y : tf.add(y, offset);
}

export const batchNormConfig = opsKernel(tf.FusedBatchNorm, (inp, attrs) =>
  batchNormOps(inp, attrs as unknown as tf.FusedBatchNormAttrs),
);
