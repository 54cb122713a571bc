import * as tf from "@tensorflow/tfjs";

/**
 * A small convnet with every layer kind a CBNN student uses in training: conv, batch norm,
 * ReLU, maxpool, separable (depthwise + pointwise) conv with stride 2, dense; used by the
 * backend check and the backend benchmark. Weights are deterministic (`seed`).
 */
export function smallConvNet(inputShape: [number, number, number], classes: number, seed = 1) {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed * 100 + s });
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape,
      filters: 16,
      kernelSize: 3,
      padding: "same",
      useBias: false,
      kernelInitializer: init(1),
    }),
  );
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: "relu" }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(
    tf.layers.separableConv2d({
      filters: 32,
      kernelSize: 3,
      padding: "same",
      strides: 2,
      useBias: false, // before BN a bias has zero gradient (only rounding noise)
      depthwiseInitializer: init(2),
      pointwiseInitializer: init(3),
    }),
  );
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: "relu" }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: classes, kernelInitializer: init(4) }));
  return m;
}

/**
 * One training step: forward in training mode, softmax cross-entropy, gradients of every
 * trainable weight, optimizer update. Returns the loss and the gradients (caller disposes).
 */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  yOneHot: tf.Tensor,
): { loss: tf.Scalar; grads: tf.NamedTensorMap } {
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(yOneHot, model.apply(x, { training: true }) as tf.Tensor),
    model.trainableWeights.map((w) => w.read() as tf.Variable),
  );
  optimizer.applyGradients(grads);
  return { loss: value, grads };
}

/** Module URL of this file, for DataParallel's ModelSpec (`exportName: "smallConvNet"`). */
export const TRAIN_STEP_MODULE: string = new URL("./train_step.ts", import.meta.url).href;
