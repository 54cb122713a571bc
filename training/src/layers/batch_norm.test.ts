import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { useFusedBatchNormTraining } from "./batch_norm";

function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < b.length; i++) mean += Math.abs(b[i]!) / b.length;
  let worst = 0;
  for (let i = 0; i < b.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (Math.abs(b[i]!) + mean + 1e-30));
  return worst;
}

/** conv -> BN -> dense, with the BN layer fused or tfjs's own; same weights. */
function model(fused: boolean, inputShape: number[]) {
  const input = tf.input({ shape: inputShape });
  const bnLayer = tf.layers.batchNormalization({ name: "bn", momentum: 0.9, epsilon: 1e-5 });
  if (fused) useFusedBatchNormTraining(bnLayer);
  let x = input as tf.SymbolicTensor;
  if (inputShape.length === 3)
    x = tf.layers
      .conv2d({
        filters: 6,
        useBias: false, // before BN a bias has zero gradient: both sides give only rounding noise
        kernelSize: 3,
        padding: "same",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      })
      .apply(x) as tf.SymbolicTensor;
  x = bnLayer.apply(x) as tf.SymbolicTensor;
  if (inputShape.length === 3) x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function step(fused: boolean, inputShape: number[], batch: number) {
  const m = model(fused, inputShape);
  // non-trivial gamma/beta and moving statistics
  const bn = m.getLayer("bn");
  const c = bn.getWeights()[0]!.shape[0]!;
  bn.setWeights([
    tf.randomUniform([c], 0.5, 2, "float32", 3),
    tf.randomUniform([c], -1, 1, "float32", 4),
    tf.randomUniform([c], -1, 1, "float32", 5),
    tf.randomUniform([c], 0.5, 2, "float32", 6),
  ]);
  const x = tf.randomNormal([batch, ...inputShape], 2, 3, "float32", 7);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3].slice(0, batch), "int32"), 4);
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true }) as tf.Tensor),
    m.trainableWeights.map((w) => w.read() as tf.Variable),
  );
  const out = {
    loss: value.dataSync()[0]!,
    grads: m.trainableWeights.map((w) =>
      Array.from(grads[(w.read() as tf.Variable).name]!.dataSync()),
    ),
    weights: m.getWeights().map((w) => Array.from(w.dataSync())),
    predict: Array.from((m.predict(x) as tf.Tensor).dataSync()),
  };
  m.dispose();
  return out;
}

describe("fused batch norm in training mode equals tfjs's own", () => {
  for (const [name, shape, batch] of [
    ["conv (NHWC)", [5, 4, 3], 6],
    ["dense", [7], 8],
  ] as const)
    it(`${name}: loss, every gradient, moving statistics, inference output`, () => {
      const want = step(false, [...shape], batch);
      const got = step(true, [...shape], batch);
      expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-5);
      expect(got.grads.length).toBe(want.grads.length);
      got.grads.forEach((g, i) => {
        expect(rel(g, want.grads[i]!)).toBeLessThan(1e-4);
      });
      got.weights.forEach((w, i) => {
        expect(rel(w, want.weights[i]!)).toBeLessThan(1e-5);
      });
      expect(rel(got.predict, want.predict)).toBeLessThan(1e-5);
    });

  it("inference mode and the layer's class/config are unchanged", () => {
    const l = useFusedBatchNormTraining(tf.layers.batchNormalization({ name: "b" }));
    expect(l.getClassName()).toBe("BatchNormalization");
    expect(l.getConfig().name).toBe("b");
  });
});
