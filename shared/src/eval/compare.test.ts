import { describe, expect, it } from "vitest";
import { type ExportReport, exportModel, formatExportReport } from "../export/exporter";
import type { FloatModel } from "../export/float-model";
import {
  fitBatchNormStatistics,
  randomConvSignNet,
  randomImages,
  randomSeparableSignNet,
  seededRandom,
} from "../export/random-model";
import { compareFloatFixed } from "./compare";

const source = { checkpoint: "test", createdAt: "2024-01-01T00:00:00Z" };

/** A deep separable Sign net whose batch norms hold statistics fitted to data, like a trained one. */
function trainedLike(seed: number): FloatModel {
  const raw = randomSeparableSignNet(seed, 4, 16);
  return fitBatchNormStatistics(
    raw,
    randomImages(seededRandom(100 + seed), 24, raw.input.shape),
    24,
  );
}

function exported(fm: FloatModel, seed: number, fracBits = 12) {
  const cal = { images: randomImages(seededRandom(200 + seed), 24, fm.input.shape), count: 24 };
  return exportModel(fm, { fracBits, source, calibration: cal });
}

describe("compareFloatFixed", () => {
  it("trained-like separable net: each block alone flips only near-ties; the full pass amplifies them", () => {
    for (const seed of [1, 2]) {
      const fm = trainedLike(seed);
      const { model, weights } = exported(fm, seed);
      const images = randomImages(seededRandom(300 + seed), 40, fm.input.shape);
      const c = compareFloatFixed(fm, model, weights, images, 40);
      expect(c.signLayers.map((s) => s.name)).toEqual([
        "b0_sign",
        "b1_sign",
        "b2_sign",
        "b3_sign",
        "b4_sign",
      ]);
      // the first block reads the same pixels in both passes
      expect(c.signLayers[0].flips).toBe(c.signLayers[0].isolatedFlips);
      for (const s of c.signLayers) {
        expect(s.values).toBeGreaterThan(0);
        // the export's own error: rare, and only within quantisation of the threshold
        // (|pre-sign| values are ~1 after fitted batch norm; measured up to 4e-3 at F = 12)
        expect(s.isolatedFlips / s.values).toBeLessThan(1e-3);
        expect(s.isolatedMaxMargin).toBeLessThan(1e-2);
        expect(s.flips).toBeGreaterThanOrEqual(s.isolatedFlips > 0 ? 1 : 0);
      }
      // what makes such nets hard to match: later layers disagree far more than
      // their own blocks do (flips cascade), unlike the random-statistics nets
      const last = c.signLayers[c.signLayers.length - 1];
      expect(last.flips).toBeGreaterThan(5 * Math.max(last.isolatedFlips, 1));
    }
  }, 60_000);

  it("catches a wrong block: one pointwise channel negated flips that block alone, far from ties", () => {
    const fm = trainedLike(3);
    const { model, weights } = exported(fm, 3);
    const images = randomImages(seededRandom(303), 20, fm.input.shape);
    const good = compareFloatFixed(fm, model, weights, images, 20);
    const pw = model.layers.findIndex((l) => l.name === "b2_pw");
    const l = model.layers[pw];
    if (!("weights" in l)) throw new Error("b2_pw is not linear");
    const bad = Int32Array.from(weights);
    const outC = l.weights.shape[1];
    for (let k = 0; k < l.weights.shape[0]; k++) {
      bad[l.weights.offset + k * outC] = -bad[l.weights.offset + k * outC];
    }
    const c = compareFloatFixed(fm, model, bad, images, 20);
    const b2 = c.signLayers[2];
    expect(c.signLayers[1]).toEqual(good.signLayers[1]);
    expect(b2.isolatedFlips).toBeGreaterThan(
      good.signLayers[2].isolatedFlips + b2.values / outC / 10,
    );
    expect(b2.isolatedMaxMargin).toBeGreaterThan(0.3);
  }, 60_000);

  it("exportModel reports the same comparison on its calibration images", () => {
    const fm = randomConvSignNet(4);
    const images = randomImages(seededRandom(44), 30, fm.input.shape);
    const { model, weights, report } = exportModel(fm, {
      source,
      calibration: { images, count: 30 },
    });
    expect(report.calibration).toEqual(compareFloatFixed(fm, model, weights, images, 30));
    expect(report.calibration?.signLayers.map((s) => s.name)).toEqual(["sign1", "sign2", "sign3"]);
  });

  it("refuses an export whose sign layers do not match the float model's", () => {
    const fm = randomConvSignNet(5);
    const { model, weights } = exportModel(fm, {
      source,
      calibration: { images: randomImages(seededRandom(5), 4, fm.input.shape), count: 4 },
    });
    const renamed = {
      ...model,
      layers: model.layers.map((l) => (l.name === "sign2" ? { ...l, name: "other" } : l)),
    };
    expect(() =>
      compareFloatFixed(fm, renamed, weights, randomImages(seededRandom(6), 2, fm.input.shape), 2),
    ).toThrow(/layers: sign layers \[sign1, other, sign3\] do not match the float model's/);
    expect(() => compareFloatFixed(fm, model, weights, new Uint8Array(10), 2)).toThrow(/images/);
  });
});

describe("formatExportReport: sensitivity note", () => {
  const report = (
    flips: number[],
    isolated: number[],
    agreement: number,
    more: Partial<ExportReport> = {},
  ): ExportReport => ({
    fracBits: 12,
    presignBits: 28,
    minHeadroomBits: 1,
    layers: [],
    maxSafeFracBits: 13,
    calibration: {
      count: 10,
      argmaxAgreement: agreement,
      maxLogitError: 1,
      signLayers: flips.map((f, k) => ({
        name: `s${k}`,
        values: 10000,
        flips: f,
        isolatedFlips: isolated[k],
        isolatedMaxMargin: isolated[k] > 0 ? 2e-3 : 0,
      })),
    },
    ...more,
  });
  it("blames amplification where the last layer flips far more than its block alone", () => {
    const text = formatExportReport(report([1, 30, 900], [1, 2, 3], 0.4));
    expect(text).toContain("s2: 9.000% / 0.030% (2.0e-3)");
    expect(text).toMatch(/the float model amplifies/);
    expect(text).toMatch(/try --presign-bits none \(up to 2 more fractional bits/);
    expect(text).not.toMatch(/--merge-separable/);
  });
  it("names the export options that buy precision, and none when they are used", () => {
    const dw = { name: "b1_dw", kind: "depthwise2d", notes: [] } as ExportReport["layers"][number];
    const unmerged = formatExportReport(report([1, 900], [1, 3], 0.9, { layers: [dw] }));
    expect(unmerged).toMatch(/try --merge-separable .*, and --presign-bits none/);
    const maxed = formatExportReport(report([1, 900], [1, 3], 0.9, { presignBits: null }));
    expect(maxed).toMatch(/already use the ring's precision/);
    expect(maxed).not.toMatch(/--presign-bits none|--merge-separable/);
  });
  it("blames precision where the blocks' own flips dominate, and says nothing at >= 99%", () => {
    expect(formatExportReport(report([50, 60], [50, 55], 0.9))).toMatch(
      /explain most of the disagreement: .*or a larger fracBits/,
    );
    expect(formatExportReport(report([1, 2], [1, 2], 0.995))).not.toMatch(/note:/);
  });
});
