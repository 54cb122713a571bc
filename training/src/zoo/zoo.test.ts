import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { buildModel, countParams } from "./build";
import { listModels, loadModelConfig, type ModelConfig, validateModelConfig } from "./config";

/** Width used for the forward-pass test: small for the big networks so the test stays fast. */
const testWidth: Record<string, number> = { vgg16: 0.125, resnet18: 0.125, cifarnet6: 0.125 };

const expectedNames = [
  "cifarnet1",
  "cifarnet2",
  "cifarnet2-relu",
  "cifarnet2-relu1",
  "cifarnet2-relu3",
  "cifarnet2-typical",
  "cifarnet2-typical-relu",
  "cifarnet2-typical-relu3",
  "cifarnet3",
  "cifarnet4",
  "cifarnet5",
  "cifarnet6",
  "mnistnet1",
  "mnistnet2",
  "mnistnet3",
  "mnistnet4",
  "resnet18",
  "vgg16",
];

function layerClasses(m: tf.LayersModel): string[] {
  return m.layers.map((l) => l.getClassName());
}

describe("model zoo", () => {
  it("lists every network", () => {
    expect(listModels()).toEqual(expectedNames);
  });

  for (const name of expectedNames) {
    it(`${name}: builds and runs a forward pass on its input shape`, () => {
      const config = loadModelConfig(name);
      const m = buildModel(tf, config, { seed: 3, width: testWidth[name] ?? 1 });
      try {
        expect(m.inputs[0].shape).toEqual([null, ...config.input]);
        const x = tf.randomNormal([2, ...config.input], 0, 1, "float32", 11);
        const y = m.predict(x) as tf.Tensor;
        expect(y.shape).toEqual([2, config.classes]);
        expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
        const classes = layerClasses(m);
        if (config.role === "student") {
          // Students binarise with Sign; the -relu ablations swap in ReLU where their config says.
          const acts = new Set(
            config.layers.map((l) => ("activation" in l ? l.activation : "none")),
          );
          expect(classes.includes("SignSTE")).toBe(acts.has("sign"));
          expect(classes.includes("ReLU")).toBe(acts.has("relu"));
          expect(acts.has("sign") || acts.has("relu")).toBe(true);
        } else {
          expect(classes).not.toContain("SignSTE");
          expect(classes).toContain("ReLU");
        }
        tf.dispose([x, y]);
      } finally {
        m.dispose();
      }
    });
  }

  it("CifarNet2 parameter counts are within 3% of the paper (383,858 typical, 67,949 separable)", () => {
    for (const [name, paper] of [
      ["cifarnet2-typical", 383858],
      ["cifarnet2", 67949],
    ] as const) {
      const config = loadModelConfig(name);
      expect(config.reference?.params).toBe(paper);
      const m = buildModel(tf, config);
      const n = countParams(m);
      expect(n).toBe(m.countParams());
      expect(Math.abs(n - paper) / paper).toBeLessThan(0.03);
      m.dispose();
    }
  });

  it("counts exact parameters for MnistNet1 (784-128-128-10 with BN)", () => {
    const m = buildModel(tf, loadModelConfig("mnistnet1"));
    // dense without bias (BN follows) + BN gamma/beta/mean/var; logits with bias
    expect(countParams(m)).toBe(784 * 128 + 4 * 128 + 128 * 128 + 4 * 128 + 128 * 10 + 10);
    m.dispose();
  });

  it("width multiplier scales hidden layers but keeps the logits", () => {
    const config = loadModelConfig("mnistnet3");
    const m = buildModel(tf, config, { width: 2 });
    expect((m.getLayer("b0_conv").getWeights()[0] as tf.Tensor).shape).toEqual([5, 5, 1, 32]);
    expect((m.getLayer("b2_dense").getWeights()[0] as tf.Tensor).shape).toEqual([512, 200]);
    expect(m.outputs[0].shape).toEqual([null, 10]);
    m.dispose();
    expect(() => buildModel(tf, config, { width: 0 })).toThrow(/width must be a positive number/);
  });

  it("the same seed gives the same weights; another seed different ones", () => {
    const config = loadModelConfig("mnistnet2");
    const w = (seed: number) => {
      const m = buildModel(tf, config, { seed });
      const v = Array.from((m.getLayer("b1_dense").getWeights()[0] as tf.Tensor).dataSync());
      m.dispose();
      return v;
    };
    expect(w(5)).toEqual(w(5));
    expect(w(5)).not.toEqual(w(6));
  });

  it("students order conv -> BN -> Sign -> maxpool; convs reading Sign outputs pad with -1", () => {
    const m = buildModel(tf, loadModelConfig("cifarnet2"));
    const names = m.layers.map((l) => l.name);
    const at = (n: string) => names.indexOf(n);
    expect(at("b0_conv")).toBeLessThan(at("b0_bn"));
    expect(at("b0_bn")).toBeLessThan(at("b0_sign"));
    expect(at("b2_sign")).toBeLessThan(at("b2_pool"));
    // first layer reads normalised pixels: tfjs "same" (zero) padding, no pad layer
    expect(names).not.toContain("b0_pad");
    expect(m.getLayer("b0_conv").getConfig().padding).toBe("same");
    // every later 3x3 conv reads +-1 values: explicit -1 pad + valid conv
    for (let i = 1; i < 9; i++) {
      const pad = m.getLayer(`b${i}_pad`);
      expect(pad.getClassName()).toBe("ConstantPad2D");
      expect(pad.getConfig().value).toBe(-1);
      expect(m.getLayer(`b${i}_dw`).getConfig().padding).toBe("valid");
    }
    m.dispose();
  });

  it("poolFirst: maxpool before the Sign, the same outputs, max pooling's gradient to the largest pre-activation", () => {
    const config: ModelConfig = {
      name: "pooltest",
      role: "student",
      dataset: "mnist",
      input: [2, 2, 1],
      classes: 1,
      layers: [
        {
          type: "conv",
          conv: "standard",
          filters: 1,
          kernel: 1,
          padding: "valid",
          bias: false,
          bn: false,
          activation: "sign",
          maxpool: 2,
        },
        { type: "dense", units: 1, bn: false, activation: "none" },
      ],
    };
    const usual = buildModel(tf, config, { seed: 3 });
    const first = buildModel(tf, config, { seed: 3, poolFirst: true });
    const order = (m: tf.LayersModel) =>
      m.layers.map((l) => l.name).filter((n) => n.startsWith("b0_"));
    expect(order(usual)).toEqual(["b0_conv", "b0_sign", "b0_pool"]);
    expect(order(first)).toEqual(["b0_conv", "b0_pool", "b0_sign"]);
    for (const m of [usual, first]) {
      m.getLayer("b0_conv").setWeights([tf.ones([1, 1, 1, 1])]);
      m.getLayer("b1_dense").setWeights([tf.ones([1, 1]), tf.zeros([1])]);
    }
    // three of the four Sign outputs are +1: the usual order's gradient goes to the
    // first of them in scan order (0.2), pool-first's to the largest (0.9)
    const x = tf.tensor4d([0.2, 0.9, -0.5, 0.5], [1, 2, 2, 1]);
    const out = (m: tf.LayersModel) => (m.apply(x) as tf.Tensor).dataSync()[0];
    expect(out(first)).toBe(out(usual));
    expect(out(usual)).toBe(1);
    const grad = (m: tf.LayersModel) =>
      Array.from(
        tf
          .grad((v: tf.Tensor) => (m.apply(v) as tf.Tensor).sum())(x)
          .dataSync(),
      );
    expect(grad(usual)).toEqual([1, 0, 0, 0]);
    expect(grad(first)).toEqual([0, 1, 0, 0]);
    // the zoo's students: the same function on a random batch, the same weights
    for (const name of ["mnistnet3", "cifarnet2-typical-relu"]) {
      const c = loadModelConfig(name);
      const a = buildModel(tf, c, { seed: 1, width: 0.25 });
      const b = buildModel(tf, c, { seed: 1, width: 0.25, poolFirst: true });
      const batch = tf.randomNormal([4, ...c.input], 0, 1, "float32", 7);
      expect(Array.from((b.predict(batch) as tf.Tensor).dataSync())).toEqual(
        Array.from((a.predict(batch) as tf.Tensor).dataSync()),
      );
      a.dispose();
      b.dispose();
    }
    usual.dispose();
    first.dispose();
  });

  it("-1 padding: a 3x3 all-ones conv over an all +1 Sign map gives 9 inside, 3 on edges, -3 in corners", () => {
    const config: ModelConfig = {
      name: "padtest",
      role: "student",
      dataset: "mnist",
      input: [4, 4, 1],
      classes: 2,
      layers: [
        {
          type: "conv",
          conv: "standard",
          filters: 1,
          kernel: 1,
          padding: "same",
          bias: false,
          bn: false,
          activation: "sign",
        },
        {
          type: "conv",
          conv: "standard",
          filters: 1,
          kernel: 3,
          padding: "same",
          bias: false,
          bn: false,
          activation: "none",
        },
        { type: "dense", units: 2, bn: false, activation: "none" },
      ],
    };
    const m = buildModel(tf, validateModelConfig(config));
    m.getLayer("b0_conv").setWeights([tf.ones([1, 1, 1, 1])]);
    m.getLayer("b1_conv").setWeights([tf.ones([3, 3, 1, 1])]);
    const probe = tf.model({ inputs: m.inputs, outputs: m.getLayer("b1_conv").output });
    const x = tf.randomUniform([1, 4, 4, 1], 0.1, 1, "float32", 1);
    const y = Array.from((probe.predict(x) as tf.Tensor).dataSync());
    // corners: 4 ones + 5 pads (-1) = -1; edges: 6 - 3 = 3; inside: 9
    expect(y).toEqual([-1, 3, 3, -1, 3, 9, 9, 3, 3, 9, 9, 3, -1, 3, 3, -1]);
    m.dispose();
  });

  it("saves and loads a model with the custom layers (same predictions)", async () => {
    const m = buildModel(tf, loadModelConfig("cifarnet2"), { seed: 9, width: 0.5 });
    // give BN non-trivial statistics so the round trip checks them too
    for (const l of m.layers.filter((l) => l.getClassName() === "BatchNormalization")) {
      const ws = l.getWeights();
      l.setWeights(
        ws.map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, 1.5, "float32", i)),
      );
    }
    let saved: tf.io.ModelArtifacts | undefined;
    await m.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
    expect(JSON.stringify(saved?.modelTopology)).toContain("SignSTE");
    expect(JSON.stringify(saved?.modelTopology)).toContain("ConstantPad2D");
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomNormal([3, 32, 32, 3], 0, 1, "float32", 2);
    const a = (m.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(countParams(loaded)).toBe(countParams(m));
    m.dispose();
    loaded.dispose();
  });
});

describe("model configs", () => {
  it("unknown names list the known ones", () => {
    expect(() => loadModelConfig("lenet")).toThrow(
      /unknown model "lenet"; known models: cifarnet1, /,
    );
  });

  it("is case-insensitive and accepts a path", () => {
    expect(loadModelConfig("CifarNet2").name).toBe("cifarnet2");
    const dir = mkdtempSync(join(tmpdir(), "cbnn-zoo-"));
    const file = join(dir, "mine.json");
    writeFileSync(file, JSON.stringify({ ...loadModelConfig("mnistnet1"), name: "mine" }));
    expect(loadModelConfig(file).name).toBe("mine");
  });

  it("names the file and field of a schema error", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbnn-zoo-"));
    const bad = loadModelConfig("mnistnet3") as unknown as { layers: Record<string, unknown>[] };
    bad.layers[0].activation = "tanh";
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify(bad));
    expect(() => loadModelConfig(file)).toThrow(/bad\.json: \/layers\/0\/activation/);
    writeFileSync(file, "{ not json");
    expect(() => loadModelConfig(file)).toThrow(/bad\.json: cannot parse JSON/);
    expect(() => loadModelConfig(join(dir, "missing.json"))).toThrow(/not found/);
  });

  it("checks that the last layer is the logits layer", () => {
    const c = loadModelConfig("mnistnet1");
    expect(() => validateModelConfig({ ...c, classes: 7 }, "x.json")).toThrow(
      /x\.json: layers\[2\]\.units is 10 but classes is 7/,
    );
    const noLogits = { ...c, layers: c.layers.slice(0, 2) };
    expect(() => validateModelConfig(noLogits, "x.json")).toThrow(/must be the logits layer/);
  });
});
