import { evaluateFloat, type FloatModel } from "@cbnn/shared";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { buildModel } from "./build";
import { loadModelConfig } from "./config";
import { toFloatModel } from "./float-model";

const NORM = {
  mnist: { mean: [33.3], std: [78.6] },
  cifar10: { mean: [125.3, 123.0, 113.9], std: [63.0, 62.1, 66.7] },
};
const CLASSES = Array.from({ length: 10 }, (_, i) => `c${i}`);

/** Gives every BN layer non-trivial statistics (seeded) so the conversion is really checked. */
function randomiseBatchNorm(m: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const l of m.layers.filter((l) => l.getClassName() === "BatchNormalization")) {
    const ws = l.getWeights();
    l.setWeights(
      ws.map((w, i) => {
        const name = l.weights[i].originalName;
        // gamma of both signs (the exporter must handle gamma < 0), positive variance
        if (name.endsWith("gamma")) return tf.randomUniform(w.shape, -1.5, 1.5, "float32", s++);
        if (name.endsWith("moving_variance"))
          return tf.randomUniform(w.shape, 0.3, 3, "float32", s++);
        return tf.randomUniform(w.shape, -0.5, 0.5, "float32", s++);
      }),
    );
  }
}

function compare(name: string, width: number, count: number): FloatModel {
  const config = loadModelConfig(name);
  const m = buildModel(tf, config, { seed: 4, width });
  randomiseBatchNorm(m, 100);
  const norm = NORM[config.dataset];
  const float = toFloatModel(m, config, {
    dataset: config.dataset,
    classes: CLASSES,
    normalisation: norm,
  });
  const [h, w, c] = config.input;
  const images = new Uint8Array(count * h * w * c);
  let r = 12345;
  for (let i = 0; i < images.length; i++) {
    r = (Math.imul(r, 1103515245) + 12345) >>> 0;
    images[i] = r >>> 24;
  }
  if (count > 1) images.fill(0, 0, h * w * c); // an all-black image (edge case)
  const x = tf.tidy(() =>
    tf.div(
      tf.sub(tf.tensor4d(Float32Array.from(images), [count, h, w, c]), tf.tensor1d(norm.mean)),
      tf.tensor1d(norm.std),
    ),
  );
  const want = (m.predict(x) as tf.Tensor).dataSync();
  const got = evaluateFloat(float, images, count);
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i] - want[i]), `${name} logit ${i}`).toBeLessThan(
      1e-4 * Math.max(1, Math.abs(want[i])),
    );
  }
  m.dispose();
  x.dispose();
  return float;
}

describe("toFloatModel", () => {
  for (const [name, width] of [
    ["mnistnet1", 1],
    ["mnistnet2", 1],
    ["mnistnet3", 1],
    ["mnistnet4", 0.5],
    ["cifarnet1", 0.25],
    ["cifarnet2", 1],
    ["cifarnet2-typical", 0.5],
    ["cifarnet5", 0.25],
    ["vgg16", 0.0625],
  ] as const) {
    it(`${name}: evaluateFloat on the converted model equals model.predict`, () => {
      compare(name, width, 3);
    });
  }

  it("CifarNet2: first conv pads 0, later depthwise convs pad -1, pointwise and BN present", () => {
    const f = compare("cifarnet2", 0.5, 1);
    const kinds = f.layers.map((l) => l.kind);
    expect(kinds.slice(0, 5)).toEqual([
      "conv2d",
      "batchnorm",
      "sign",
      "depthwise2d",
      "pointwise2d",
    ]);
    const convs = f.layers.filter((l) => l.kind === "conv2d" || l.kind === "depthwise2d");
    expect(convs.map((l) => ("padValue" in l ? l.padValue : null))).toEqual([
      0, -1, -1, -1, -1, -1, -1, -1, -1,
    ]);
    expect(convs.every((l) => "padding" in l && l.padding === "same")).toBe(true);
    expect(kinds.filter((k) => k === "maxpool").length).toBe(3);
    expect(kinds.at(-2)).toBe("flatten");
    expect(kinds.at(-1)).toBe("dense");
  });

  it("rejects residual teachers and mismatched info, naming the problem", () => {
    const res = loadModelConfig("resnet18");
    const m = buildModel(tf, res, { width: 0.0625 });
    const info = { dataset: "cifar10", classes: CLASSES, normalisation: NORM.cifar10 };
    expect(() => toFloatModel(m, res, info)).toThrow(
      /toFloatModel\(resnet18\): layer b1_\w+ .*chain/,
    );
    m.dispose();
    const c2 = loadModelConfig("cifarnet2");
    const m2 = buildModel(tf, c2, { width: 0.25 });
    expect(() => toFloatModel(m2, c2, { ...info, classes: ["a"] })).toThrow(
      /info.classes has 1 names/,
    );
    expect(() => toFloatModel(m2, c2, { ...info, normalisation: NORM.mnist })).toThrow(
      /needs 3 mean/,
    );
    m2.dispose();
  });
});
