import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { argmaxAgreement, evaluateFixed } from "../eval/fixed";
import { evaluateFloat } from "../eval/float";
import { shapeSize } from "../model/geometry";
import { loadExport, saveExport } from "../model/io";
import { exportModel } from "./exporter";
import type { FloatLayer, FloatModel } from "./float-model";
import {
  randomConvSignNet,
  randomDenseSignNet,
  randomImages,
  randomReluNet,
  seededRandom,
} from "./random-model";

const source = { checkpoint: "test", createdAt: "2024-01-01T00:00:00Z" };

function calib(fm: FloatModel, seed: number, count: number) {
  return { images: randomImages(seededRandom(seed), count, fm.input.shape), count };
}

/** Fixed logits / 2^outFracBits vs float logits. */
function compare(fm: FloatModel, fracBits: number, count: number, seed: number) {
  const { model, weights } = exportModel(fm, {
    fracBits,
    source,
    calibration: calib(fm, seed + 1, 100),
  });
  const images = randomImages(seededRandom(seed), count, fm.input.shape);
  const fx = evaluateFixed(model, weights, images, count);
  const fp = evaluateFloat(fm, images, count);
  const outFrac = model.layers[model.layers.length - 1].outFracBits;
  const diffs = Array.from(fx, (v, k) => Math.abs(v / 2 ** outFrac - fp[k]));
  diffs.sort((a, b) => a - b);
  return {
    model,
    weights,
    agreement: argmaxAgreement(fx, fp, fm.classes.length),
    median: diffs[Math.floor(diffs.length / 2)],
    max: diffs[diffs.length - 1],
  };
}

describe("exportModel: fixed point agrees with the float model", () => {
  for (const [name, make] of [
    ["dense Sign net", randomDenseSignNet],
    ["conv Sign net (separable, maxpool, same padding s1/s2, negative gammas)", randomConvSignNet],
  ] as const) {
    it(name, () => {
      let agree = 0;
      for (const seed of [1, 2, 3]) {
        const r = compare(make(seed), 12, 400, seed + 10);
        agree += r.agreement / 3;
        expect(r.median).toBeLessThan(0.01);
      }
      expect(agree).toBeGreaterThanOrEqual(0.995);
    });
  }

  it("ReLU net (BN folded into W, b; truncation only where a product feeds a product)", () => {
    for (const seed of [1, 2]) {
      const r = compare(randomReluNet(seed), 12, 300, seed + 20);
      expect(r.agreement).toBeGreaterThanOrEqual(0.995);
      expect(r.max).toBeLessThan(0.01);
      const shifts = r.model.layers.map((l) => ("outShift" in l ? l.outShift : -1));
      // conv1 (pixels) shifts its extra bits, conv2 / fc1 shift fracBits, logits are not truncated
      expect(shifts.filter((s) => s >= 0).slice(1)).toEqual([12, 12, 0]);
      expect(r.model.layers.find((l) => l.kind === "maxpool")).toMatchObject({ mode: "max" });
    }
  });

  it("marks maxpool after sign as OR and keeps separable convs as two layers", () => {
    const { model } = exportModel(randomConvSignNet(1), {
      source,
      calibration: calib(randomConvSignNet(1), 3, 20),
    });
    expect(model.layers.map((l) => l.kind)).toEqual([
      "conv2d",
      "sign",
      "maxpool",
      "depthwise2d",
      "pointwise2d",
      "sign",
      "depthwise2d",
      "pointwise2d",
      "sign",
      "dense",
    ]);
    expect(model.layers[2]).toMatchObject({ mode: "or", inDomain: "bits", outDomain: "bits" });
    expect(model.layers.every((l) => !("outShift" in l) || l.outShift === 0)).toBe(true);
  });
});

/** pixels -> dense(1 unit, W=1) -> BN(gamma) -> sign -> dense [1, -1]: logits reveal the bit. */
function thresholdNet(gamma: number): FloatModel {
  return {
    name: "tie",
    dataset: "test",
    input: { shape: [1, 1, 1] },
    classes: ["a", "b"],
    normalisation: { mean: [0], std: [1] },
    layers: [
      { kind: "dense", name: "fc", weights: new Float32Array([1]) },
      {
        kind: "batchnorm",
        name: "bn",
        gamma: new Float32Array([gamma]),
        beta: new Float32Array([0]),
        mean: new Float32Array([100]),
        variance: new Float32Array([1]),
        epsilon: 0,
      },
      { kind: "sign", name: "sign" },
      { kind: "dense", name: "out", weights: new Float32Array([1, -1]) },
    ],
  };
}

describe("batch norm before sign", () => {
  it("negative gamma flips the channel; x == threshold gives +1 like float sign(0)", () => {
    const images = Uint8Array.from({ length: 256 }, (_, k) => k);
    for (const gamma of [-1, 1, -0.25, 3]) {
      const fm = thresholdNet(gamma);
      const { model, weights } = exportModel(fm, { source, fracBits: 8 });
      const fx = evaluateFixed(model, weights, images, 256);
      const fp = evaluateFloat(fm, images, 256);
      for (let u = 0; u < 256; u++) {
        const floatBit = fp[2 * u] > 0 ? 1 : 0;
        const fixedBit = fx[2 * u] > 0 ? 1 : 0;
        expect(fixedBit, `u=${u} gamma=${gamma}`).toBe(floatBit);
        expect(floatBit, `u=${u}`).toBe(gamma > 0 ? Number(u >= 100) : Number(u <= 100));
      }
      const w = weights[model.layers[0].kind === "dense" ? model.layers[0].weights.offset : 0];
      expect(Math.sign(w)).toBe(Math.sign(gamma)); // weights negated exactly where gamma' < 0
    }
  });

  it("gamma' = 0 gives a constant channel (sign of beta)", () => {
    const fm = thresholdNet(0);
    const images = Uint8Array.from({ length: 256 }, (_, k) => k);
    const { model, weights } = exportModel(fm, { source });
    const fx = evaluateFixed(model, weights, images, 256);
    const fp = evaluateFloat(fm, images, 256);
    expect(argmaxAgreement(fx, fp, 2)).toBe(1);
  });
});

/**
 * pixels [u1, u2] -> dense(2 units) -> sign -> identity dense: logits are the two
 * bits. Unit "big" has weights 1e3; unit "small" weights ~4e-7 with a threshold
 * that no pixel pair meets exactly, so its float bits are well defined.
 */
function twoScaleNet(): FloatModel {
  return {
    name: "two-scale",
    dataset: "test",
    input: { shape: [1, 1, 2] },
    classes: ["big", "small"],
    normalisation: { mean: [0, 0], std: [1, 1] },
    layers: [
      {
        kind: "dense",
        name: "fc",
        // [in, out] row-major: u1 -> (big, small), u2 -> (big, small)
        weights: new Float32Array([1000, 3.7e-7, -1000, -4.1e-7]),
        bias: new Float32Array([0.5, 1.23e-7]),
      },
      { kind: "sign", name: "sign" },
      { kind: "dense", name: "out", weights: new Float32Array([1, 0, 0, 1]) },
    ],
  };
}

describe("per-channel scale of pre-sign layers", () => {
  it("a channel with small weights keeps its precision next to a large one", () => {
    const fm = twoScaleNet();
    const images = new Uint8Array(2 * 256 * 256);
    for (let k = 0; k < 256 * 256; k++) {
      images[2 * k] = k >> 8;
      images[2 * k + 1] = k & 255;
    }
    const { model, weights, report } = exportModel(fm, { source, fracBits: 12 });
    const fx = evaluateFixed(model, weights, images, 256 * 256);
    const fp = evaluateFloat(fm, images, 256 * 256);
    let bigFlips = 0;
    let smallFlips = 0;
    let smallOnes = 0;
    for (let k = 0; k < 256 * 256; k++) {
      if (fx[2 * k] > 0 !== fp[2 * k] > 0) bigFlips++;
      if (fx[2 * k + 1] > 0 !== fp[2 * k + 1] > 0) smallFlips++;
      if (fp[2 * k + 1] > 0) smallOnes++;
    }
    // both bits vary over the inputs, so a constant channel cannot pass
    expect(smallOnes).toBeGreaterThan(10000);
    expect(smallOnes).toBeLessThan(55000);
    expect(bigFlips).toBe(0);
    // unscaled, the small unit gets the ~12 fractional bits the large one leaves: its
    // weights (~4e-7 x 2^12 < 1) would round to 0
    expect(smallFlips).toBe(0);
    expect(report.layers[0].notes.join(" ")).toMatch(
      /per-channel scale: 1 of 2 channels given more fractional bits/,
    );
  });
});

/** conv (kernel 3, padding same, stride s) -> flatten -> identity dense: logits = conv output. */
function borderNet(
  input: [number, number, number],
  stride: number,
  first: FloatLayer[],
  padValue: number,
): FloatModel {
  const r = seededRandom(5);
  const c = first.length ? 2 : input[2];
  const oh = Math.ceil(input[0] / stride);
  const ow = Math.ceil(input[1] / stride);
  const n = oh * ow * 2;
  const id = new Float32Array(n * n);
  for (let k = 0; k < n; k++) id[k * n + k] = 1;
  return {
    name: "border",
    dataset: "test",
    input: { shape: input },
    classes: Array.from({ length: n }, (_, k) => String(k)),
    normalisation: { mean: [120, 90], std: [50, 70] },
    layers: [
      ...first,
      {
        kind: "conv2d",
        name: "conv",
        kernel: [3, 3],
        strides: [stride, stride],
        padding: "same",
        padValue,
        weights: Float32Array.from({ length: 9 * c * 2 }, () => r() - 0.5),
        bias: new Float32Array([0.25, -0.5]),
      },
      { kind: "flatten", name: "flat" },
      { kind: "dense", name: "id", weights: id },
    ],
  };
}

describe("padding at the borders", () => {
  it("first layer: float pads the normalised input with 0 -> per-position bias, exact", () => {
    for (const stride of [1, 2]) {
      const fm = borderNet([5, 6, 2], stride, [], 0);
      const r = compare(fm, 12, 50, 3);
      expect(r.model.layers[0].kind === "conv2d" && r.model.layers[0].bias.shape.length).toBe(3);
      expect(r.max).toBeLessThan(2e-3);
    }
  });

  it("after sign: pad -1 needs no per-position bias, pad 0 gets one; both exact", () => {
    const pre: FloatLayer[] = [
      { kind: "pointwise2d", name: "pre", weights: new Float32Array([1, 0.5, -0.5, 1]) },
      { kind: "sign", name: "s" },
    ];
    for (const [padValue, biasRank] of [
      [-1, 1],
      [0, 3],
    ]) {
      for (const stride of [1, 2]) {
        const fm = borderNet([4, 5, 2], stride, pre, padValue);
        const r = compare(fm, 12, 50, 4);
        const conv = r.model.layers[2];
        expect(conv.kind === "conv2d" && conv.bias.shape.length).toBe(biasRank);
        expect(r.max).toBeLessThan(2e-3);
      }
    }
  });
});

describe("overflow refusal", () => {
  it("refuses a fracBits whose worst case overflows, naming the layer and what fits", () => {
    const fm = randomDenseSignNet(1);
    // without the pre-sign cap, pre-sign layers keep at least fracBits of precision
    expect(() => exportModel(fm, { source, fracBits: 22, presignBits: null })).toThrow(
      /fracBits: 22 can overflow the 32-bit ring: layer fc1: .*fracBits <= \d+ would fit/,
    );
    // with it (default 28 bits), pre-sign layers take what fits below the cap
    const { model } = exportModel(fm, { source, fracBits: 22 });
    for (const l of model.layers) {
      if ("weights" in l && l.outBoundBits !== undefined && l.name !== "fc3")
        expect(l.outBoundBits).toBeLessThanOrEqual(28);
    }
  });

  it("refuses a fracBits whose calibrated activations overflow", () => {
    const fm = randomReluNet(1);
    expect(() => exportModel(fm, { source, fracBits: 15, calibration: calib(fm, 2, 50) })).toThrow(
      /can overflow the 32-bit ring: layer conv2: .*calibrated.*fracBits <= 1[0-9] would fit/,
    );
  });

  it("a ReLU net needs calibration images", () => {
    expect(() => exportModel(randomReluNet(1), { source })).toThrow(/calibration/);
  });

  it("the suggested fracBits is accepted", () => {
    const fm = randomReluNet(1);
    const cal = calib(fm, 2, 50);
    const { report } = exportModel(fm, { source, fracBits: 8, calibration: cal });
    expect(() =>
      exportModel(fm, { source, fracBits: report.maxSafeFracBits, calibration: cal }),
    ).not.toThrow();
  });
});

describe("round trip", () => {
  it("export, save, load, evaluate equals in-memory evaluation", async () => {
    const fm = randomConvSignNet(4);
    const { model, weights } = exportModel(fm, { source, calibration: calib(fm, 1, 30) });
    const dir = await mkdtemp(join(tmpdir(), "cbnn-export-"));
    try {
      await saveExport(dir, model, weights);
      const loaded = await loadExport(dir);
      expect(loaded.model).toEqual(model);
      expect(loaded.weights).toEqual(weights);
      const count = 40;
      const images = randomImages(seededRandom(9), count, fm.input.shape);
      expect(shapeSize(fm.input.shape) * count).toBe(images.length);
      expect(evaluateFixed(loaded.model, loaded.weights, images, count)).toEqual(
        evaluateFixed(model, weights, images, count),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
