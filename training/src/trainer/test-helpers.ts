import * as tf from "@tensorflow/tfjs";
import type { DataSplit, LossFn } from "./trainer";

/** Synthetic, learnable data: class k has a bright kth quadrant (plus noise). Test helper. */
export function syntheticSplit(
  count: number,
  seed: number,
  shape: [number, number, number] = [8, 8, 1],
): DataSplit {
  const [h, w, c] = shape;
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const images = new Uint8Array(count * h * w * c);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const k = Math.floor(rand() * 4);
    labels[i] = k;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const q = (y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1);
        for (let ch = 0; ch < c; ch++) {
          const base = q === k ? 160 : 60;
          images[((i * h + y) * w + x) * c + ch] = Math.min(255, Math.floor(base + 90 * rand()));
        }
      }
    }
  }
  return { images, labels, count, shape };
}

/** A small conv + BN + dense model with seeded initialisers. Test helper. */
export function tinyModel(
  seed: number,
  shape: [number, number, number] = [8, 8, 1],
  classes = 4,
): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: shape,
      filters: 4,
      kernelSize: 3,
      padding: "same",
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  );
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: "relu" }));
  m.add(tf.layers.flatten());
  // Unseeded dropout: the trainer must make its masks reproducible.
  m.add(tf.layers.dropout({ rate: 0.2 }));
  m.add(
    tf.layers.dense({
      units: classes,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return m;
}

export const crossEntropy: LossFn = (labels, logits) =>
  tf.tidy(
    () => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits) as tf.Scalar,
  );

/**
 * tinyModel without batch norm and dropout: its gradient over a batch is the mean of the
 * per-example gradients, so data-parallel training must reproduce one-thread training.
 * Test helper.
 */
export function tinyPlainModel(seed: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [8, 8, 1],
      filters: 4,
      kernelSize: 3,
      padding: "same",
      activation: "relu",
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  );
  m.add(tf.layers.flatten());
  m.add(
    tf.layers.dense({
      units: 4,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return m;
}

let lossCalls = 0;
/**
 * A worker loss (packed targets, see packTargets) that throws from its (after + 1)th call
 * on: a gradient worker failing mid-run. Test helper.
 */
export function lossFailingAfter(packed: tf.Tensor, logits: tf.Tensor, after: number): tf.Scalar {
  lossCalls += 1;
  if (lossCalls > after) throw new Error(`injected failure at call ${lossCalls}`);
  return tf.tidy(() => {
    const labels = tf.cast(tf.squeeze(tf.slice(packed, [0, 0], [-1, 1]), [1]), "int32");
    return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]!), logits) as tf.Scalar;
  });
}

/** Module URL of this file, for DataParallel's ModelSpec in tests. */
export const TEST_HELPERS_MODULE: string = new URL("./test-helpers.ts", import.meta.url).href;
