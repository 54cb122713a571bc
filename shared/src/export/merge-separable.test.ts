import { describe, expect, it } from "vitest";
import { compareFloatFixed } from "../eval/compare";
import { argmaxAgreement, evaluateFixed } from "../eval/fixed";
import { evaluateFloat, evaluateFloatTraced } from "../eval/float";
import { exportModel } from "./exporter";
import type { FloatLayer, FloatModel } from "./float-model";
import { mergeSeparable, mergeSeparableExact } from "./merge-separable";
import {
  fitBatchNormStatistics,
  randomBatchNorm,
  randomConvSignNet,
  randomImages,
  randomSeparableSignNet,
  seededRandom,
} from "./random-model";

const source = { checkpoint: "test", createdAt: "2024-01-01T00:00:00Z" };

function gaussTensor(rand: () => number, n: number, std: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand()) * std;
  });
}

/**
 * Separable pairs in every position the merge must handle: reading pixels
 * (padValue 0, "same"), after sign with padValue 0 and -1, stride 2, "valid"
 * padding with a 2x3 kernel, biases on none / one / both, and feeding relu.
 */
function edgeNet(seed: number): FloatModel {
  const r = seededRandom(seed);
  const t = (n: number, std: number) => gaussTensor(r, n, std);
  const layers: FloatLayer[] = [
    {
      kind: "depthwise2d",
      name: "dw1",
      kernel: [3, 3],
      strides: [1, 1],
      padding: "same",
      padValue: 0,
      weights: t(3 * 3 * 3, 0.3),
      bias: t(3, 0.1),
    },
    { kind: "pointwise2d", name: "pw1", weights: t(3 * 8, 0.5) },
    randomBatchNorm(r, "bn1", 8, { negativeGammas: true }),
    { kind: "sign", name: "s1" },
    {
      kind: "depthwise2d",
      name: "dw2",
      kernel: [3, 3],
      strides: [2, 2],
      padding: "same",
      padValue: -1,
      weights: t(3 * 3 * 8, 0.3),
    },
    { kind: "pointwise2d", name: "pw2", weights: t(8 * 6, 0.4), bias: t(6, 0.1) },
    randomBatchNorm(r, "bn2", 6, { negativeGammas: true }),
    { kind: "sign", name: "s2" },
    {
      kind: "depthwise2d",
      name: "dw3",
      kernel: [3, 3],
      strides: [1, 2],
      padding: "same",
      padValue: 0,
      weights: t(3 * 3 * 6, 0.3),
      bias: t(6, 0.1),
    },
    { kind: "pointwise2d", name: "pw3", weights: t(6 * 5, 0.4), bias: t(5, 0.1) },
    randomBatchNorm(r, "bn3", 5, { negativeGammas: true }),
    { kind: "sign", name: "s3" },
    {
      kind: "depthwise2d",
      name: "dw4",
      kernel: [2, 3],
      strides: [1, 1],
      padding: "valid",
      padValue: -1,
      weights: t(2 * 3 * 5, 0.3),
    },
    { kind: "pointwise2d", name: "pw4", weights: t(5 * 4, 0.4) },
    { kind: "relu", name: "relu4" },
    { kind: "flatten", name: "flatten" },
  ];
  // 11x11 -> dw2 s2 same: 6x6 -> dw3 (1,2): 6x3 -> dw4 valid 2x3: 5x1
  layers.push({ kind: "dense", name: "fc", weights: t(5 * 1 * 4 * 7, 0.3), bias: t(7, 0.1) });
  return {
    name: "edge",
    dataset: "random",
    input: { shape: [11, 11, 3] },
    classes: Array.from({ length: 7 }, (_, k) => `c${k}`),
    normalisation: { mean: [120, 110, 100], std: [60, 65, 70] },
    layers,
  };
}

/** Largest |a - b| relative to max(1, |b|). */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) {
    m = Math.max(m, Math.abs(a[k] - b[k]) / Math.max(1, Math.abs(b[k])));
  }
  return m;
}

/** Every sign output and the logits of `fm` on the images, in order. */
function signsAndLogits(fm: FloatModel, images: Uint8Array, count: number) {
  const signs: number[] = [];
  const logits = evaluateFloatTraced(fm, images, count, (_, i, out) => {
    if (fm.layers[i].kind === "sign") for (const v of out) signs.push(v);
  });
  return { signs, logits };
}

describe("mergeSeparable", () => {
  it("computes the same function as the unmerged model (pixels, padValue 0/-1, stride 2, valid, biases, relu)", () => {
    for (const seed of [1, 2, 3]) {
      const fm = edgeNet(seed);
      const { model, merged } = mergeSeparable(fm);
      expect(merged.map((m) => m.name)).toEqual(["dw1+pw1", "dw2+pw2", "dw3+pw3", "dw4+pw4"]);
      expect(model.layers.length).toBe(fm.layers.length - 4);
      expect(
        model.layers.filter((l) => l.kind === "depthwise2d" || l.kind === "pointwise2d"),
      ).toEqual([]);
      const images = randomImages(seededRandom(50 + seed), 60, fm.input.shape);
      const a = signsAndLogits(fm, images, 60);
      const b = signsAndLogits(model, images, 60);
      expect(maxRelDiff(b.logits, a.logits)).toBeLessThan(1e-5);
      // no sign flips at all on these inputs (the pre-sign values differ by float rounding only)
      expect(b.signs).toEqual(a.signs);
    }
  });

  it("matches randomConvSignNet (stride 2 same padding with padValue -1 after sign + maxpool, depthwise bias)", () => {
    for (const seed of [1, 2, 3]) {
      const fm = randomConvSignNet(seed);
      const { model, merged } = mergeSeparable(fm);
      expect(merged.length).toBe(2);
      const m = model.layers.find((l) => l.name === "dw2+pw2");
      if (m?.kind !== "conv2d") throw new Error("dw2+pw2 is not a conv2d");
      expect(m.strides).toEqual([2, 2]);
      expect(m.padding).toBe("same");
      expect(m.padValue).toBe(-1);
      expect(m.weights.length).toBe(3 * 3 * 8 * 12);
      const images = randomImages(seededRandom(70 + seed), 100, fm.input.shape);
      expect(
        maxRelDiff(evaluateFloat(model, images, 100), evaluateFloat(fm, images, 100)),
      ).toBeLessThan(1e-5);
    }
  });

  it("writes W[a,b,c,o] = D[a,b,c] P[c,o] and bias = d.P + q, and counts the cost", () => {
    const fm = edgeNet(4);
    const { model, merged, exact } = mergeSeparableExact(fm);
    const dw = fm.layers[8];
    const pw = fm.layers[9];
    const conv = model.layers.find((l) => l.name === "dw3+pw3");
    if (dw.kind !== "depthwise2d" || pw.kind !== "pointwise2d" || conv?.kind !== "conv2d") {
      throw new Error("unexpected layers");
    }
    const ex = exact.get("dw3+pw3");
    if (!ex?.bias) throw new Error("no exact tensors for dw3+pw3");
    const [c, o] = [6, 5];
    for (const [a, b, ci, k] of [
      [0, 0, 0, 0],
      [2, 1, 5, 4],
      [1, 2, 3, 2],
    ]) {
      const product = dw.weights[(a * 3 + b) * c + ci] * pw.weights[ci * o + k];
      expect(ex.weights[((a * 3 + b) * c + ci) * o + k]).toBe(product);
      expect(conv.weights[((a * 3 + b) * c + ci) * o + k]).toBe(Math.fround(product));
    }
    const dB = dw.bias as Float32Array;
    const pB = pw.bias as Float32Array;
    for (let k = 0; k < o; k++) {
      let want = pB[k];
      for (let ci = 0; ci < c; ci++) want += dB[ci] * pw.weights[ci * o + k];
      expect(ex.bias[k]).toBeCloseTo(want, 12);
      expect(conv.bias?.[k]).toBe(Math.fround(ex.bias[k]));
    }
    // no biases on either side: none on the merged conv
    const noBias = model.layers.find((l) => l.name === "dw4+pw4");
    expect(noBias?.kind === "conv2d" && noBias.bias === undefined).toBe(true);
    expect(exact.get("dw4+pw4")?.bias).toBeUndefined();
    // dw3 on 6x6 at strides (1,2): 6x3 outputs
    expect(merged[2]).toEqual({
      name: "dw3+pw3",
      depthwise: "dw3",
      pointwise: "pw3",
      multsBefore: 6 * 3 * c * (9 + o),
      multsAfter: 6 * 3 * c * 9 * o,
      weightsBefore: 9 * c + c * o,
      weightsAfter: 9 * c * o,
    });
  });

  it("leaves a depthwise not directly followed by a pointwise alone, and refuses a name clash", () => {
    const fm = randomSeparableSignNet(1, 2, 4);
    const split: FloatModel = {
      ...fm,
      layers: fm.layers.flatMap((l) =>
        l.name === "b1_dw" ? [l, randomBatchNorm(seededRandom(9), "b1_extra_bn", 4)] : [l],
      ),
    };
    const { model, merged } = mergeSeparable(split);
    expect(merged.map((m) => m.name)).toEqual(["b2_dw+b2_pw"]);
    expect(model.layers.some((l) => l.name === "b1_dw")).toBe(true);
    const clash: FloatModel = {
      ...fm,
      layers: fm.layers.map((l) => (l.name === "b0_sign" ? { ...l, name: "b1_dw+b1_pw" } : l)),
    };
    expect(() => mergeSeparable(clash)).toThrow(
      /float\.layers: merging b1_dw and b1_pw gives the name b1_dw\+b1_pw, already used/,
    );
  });
});

describe("exportModel({ mergeSeparable: true })", () => {
  it("edge net: merged export agrees with the float model; one linear layer less per pair", () => {
    for (const seed of [1, 2]) {
      const fm = edgeNet(seed);
      const cal = { images: randomImages(seededRandom(80 + seed), 40, fm.input.shape), count: 40 };
      const plain = exportModel(fm, { source, calibration: cal });
      const merged = exportModel(fm, { source, calibration: cal, mergeSeparable: true });
      expect(merged.model.layers.length).toBe(plain.model.layers.length - 4);
      expect(merged.report.mergedSeparable?.length).toBe(4);
      expect(merged.model.source.mergeSeparable).toBe(true);
      // merged layers reading pixels or bits carry a proven bound
      for (const l of merged.model.layers) {
        if (l.kind === "conv2d") expect(l.outBoundBits).toBeDefined();
      }
      const images = randomImages(seededRandom(90 + seed), 200, fm.input.shape);
      const fp = evaluateFloat(fm, images, 200);
      const fx = evaluateFixed(merged.model, merged.weights, images, 200);
      expect(argmaxAgreement(fx, fp, 7)).toBeGreaterThanOrEqual(0.99);
      // the report's comparison runs against the model as given (unmerged)
      expect(merged.report.calibration?.signLayers.map((s) => s.name)).toEqual(["s1", "s2", "s3"]);
    }
  });

  it("trained-like separable Sign net: merged agreement >= unmerged", () => {
    let plainSum = 0;
    let mergedSum = 0;
    // measured (200 images, seeds 1-3): 86.0 / 83.5 / 87.5% unmerged, 99.5% merged
    for (const seed of [1, 2]) {
      const raw = randomSeparableSignNet(seed);
      const fm = fitBatchNormStatistics(
        raw,
        randomImages(seededRandom(100 + seed), 24, raw.input.shape),
        24,
      );
      const cal = { images: randomImages(seededRandom(200 + seed), 24, fm.input.shape), count: 24 };
      const plain = exportModel(fm, { source, calibration: cal });
      const merged = exportModel(fm, { source, calibration: cal, mergeSeparable: true });
      expect(merged.model.layers.length).toBe(plain.model.layers.length - 5);
      const images = randomImages(seededRandom(300 + seed), 100, fm.input.shape);
      const p = compareFloatFixed(fm, plain.model, plain.weights, images, 100);
      const m = compareFloatFixed(fm, merged.model, merged.weights, images, 100);
      plainSum += p.argmaxAgreement;
      mergedSum += m.argmaxAgreement;
      expect(m.argmaxAgreement).toBeGreaterThanOrEqual(p.argmaxAgreement);
      // the merged blocks read bits directly: their own flips are rarer than the pairs'
      const own = (c: typeof p) => c.signLayers.reduce((a, s) => a + s.isolatedFlips, 0);
      expect(own(m)).toBeLessThanOrEqual(own(p));
    }
    expect(mergedSum).toBeGreaterThan(plainSum);
  }, 60_000);

  it("is a no-op without separable pairs", () => {
    const fm = randomSeparableSignNet(1, 0, 4);
    const a = exportModel(fm, { source });
    const b = exportModel(fm, { source, mergeSeparable: true });
    expect(b.weights).toEqual(a.weights);
    expect(b.model.layers).toEqual(a.model.layers);
    expect(b.report.mergedSeparable).toEqual([]);
  });
});
