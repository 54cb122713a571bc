/**
 * Batch normalisation in training mode as one differentiable op, for the zoo's
 * BatchNormalization layers (channels last). tfjs differentiates its own version op by op
 * through tf.moments: about 20 passes over the activation in the backward pass, against 7
 * here (dx = gamma*rstd*(dy - mean(dy) - xhat*mean(dy*xhat))). Same function, same
 * layer class, names, weights and serialisation; inference mode is untouched.
 */
import * as tf from "@tensorflow/tfjs";
import type { GradSaveFunc } from "@tensorflow/tfjs-core";

export interface BatchNormTrainingResult {
  /** gamma * (x - mean) / sqrt(variance + epsilon) + beta */
  y: tf.Tensor;
  /** batch mean and (biased) variance per channel, as tf.moments gives them; kept
   * (tf.keep) past any enclosing tidy: the caller disposes them */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Normalise `x` ([..., C]) over all axes but the last with its batch statistics; the
 * gradient flows to x, gamma and beta (also through the statistics), not to mean/variance.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): BatchNormTrainingResult {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  let stats: [tf.Tensor1D, tf.Tensor1D] | null = null;
  const op = tf.customGrad((...args: Array<tf.Tensor | GradSaveFunc>) => {
    const [xi, g, b] = args as tf.Tensor[];
    const save = args[3] as GradSaveFunc;
    const [y, mean, variance, xhat, rstd] = tf.tidy(() => {
      const m = tf.mean(xi!, axes) as tf.Tensor1D;
      const xc = tf.sub(xi!, m);
      const v = tf.mean(tf.square(xc), axes) as tf.Tensor1D;
      const r = tf.rsqrt(tf.add(v, epsilon));
      const xh = tf.mul(xc, r);
      return [tf.add(tf.mul(xh, g!), b!), m, v, xh, r];
    });
    // customGrad runs this inside a tidy: keep the statistics past it (caller disposes).
    stats = [tf.keep(mean as tf.Tensor1D), tf.keep(variance as tf.Tensor1D)];
    save([xhat!, rstd!, g!]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const d = dy as tf.Tensor;
        const [xh, r, gm] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const n = d.size / d.shape[d.rank - 1]!;
        const dbeta = tf.sum(d, axes);
        const dgamma = tf.sum(tf.mul(d, xh), axes);
        const centred = tf.sub(tf.sub(d, tf.div(dbeta, n)), tf.mul(xh, tf.div(dgamma, n)));
        return [tf.mul(centred, tf.mul(gm, r)), dgamma, dbeta];
      },
    };
  });
  const y = op(x, gamma, beta);
  const [mean, variance] = stats as unknown as [tf.Tensor1D, tf.Tensor1D];
  return { y, mean, variance };
}

/** The parts of tfjs-layers' BatchNormalization this module reads (not in its typings). */
interface BatchNormInternals {
  axis: number | number[];
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: { read(): tf.Tensor } | null;
  beta: { read(): tf.Tensor } | null;
  movingMean: { read(): tf.Tensor; write(t: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(t: tf.Tensor): void };
}

/**
 * Make a tf.layers.batchNormalization layer run {@link batchNormTraining} in training
 * mode (moving statistics updated as tfjs does: m <- m - (m - batch) * (1 - momentum)).
 * Layers normalising another axis, or without gamma/beta, keep tfjs's path.
 */
export function useFusedBatchNormTraining<L extends tf.layers.Layer>(layer: L): L {
  const original = layer.call.bind(layer);
  layer.call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => {
    const bn = layer as unknown as BatchNormInternals;
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const axis = Array.isArray(bn.axis) ? bn.axis : [bn.axis];
    const last = axis.length === 1 && (axis[0] === -1 || axis[0] === x.rank - 1);
    const training = kwargs.training == null ? false : Boolean(kwargs.training);
    if (!training || !last || !bn.center || !bn.scale || bn.gamma == null || bn.beta == null)
      return original(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(
        x,
        bn.gamma!.read() as tf.Tensor1D,
        bn.beta!.read() as tf.Tensor1D,
        bn.epsilon,
      );
      for (const [v, value] of [
        [bn.movingMean, mean],
        [bn.movingVariance, variance],
      ] as const) {
        tf.tidy(() => {
          const old = v.read();
          v.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - bn.momentum)));
        });
      }
      tf.dispose([mean, variance]);
      return y;
    });
  };
  return layer;
}
