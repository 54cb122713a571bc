import { describe, expect, it } from "vitest";
import { traceRanges } from "../eval/fixed";
import { checkExport } from "../model/check";
import { ExportFormatError } from "../model/errors";
import type { LinearLayer, ModelExport } from "../model/types";
import { checkOutBounds, computeOutBounds, intervalMaxAbs, withOutBounds } from "./bounds";
import { exportModel } from "./exporter";
import {
  randomConvSignNet,
  randomDenseSignNet,
  randomImages,
  randomReluNet,
  seededRandom,
} from "./random-model";

const source = { checkpoint: "test", createdAt: "2024-01-01T00:00:00Z" };

function linearBounds(model: ModelExport): (number | undefined)[] {
  return model.layers.map((l) => ("weights" in l ? l.outBoundBits : undefined));
}

describe("outBoundBits", () => {
  it("the exporter records proven bounds that hold on random and extreme images", () => {
    for (const fm of [randomDenseSignNet(3), randomConvSignNet(4)]) {
      const calib = randomImages(seededRandom(9), 8, fm.input.shape);
      const { model, weights } = exportModel(fm, {
        source,
        calibration: { images: calib, count: 8 },
      });
      const n = 40;
      const images = randomImages(seededRandom(10), n, fm.input.shape);
      const per = images.length / n;
      images.fill(0, 0, per);
      images.fill(255, per, 2 * per);
      for (let k = 2 * per; k < 3 * per; k++) images[k] = k % 2 ? 255 : 0;
      const ranges = traceRanges(model, weights, images, n);
      let recorded = 0;
      model.layers.forEach((l, i) => {
        if (!("weights" in l) || l.outBoundBits === undefined) return;
        recorded++;
        // traceRanges reports the pre-shift accumulator; these layers are not shifted
        expect(l.outShift).toBe(0);
        expect(ranges[i].maxAbs).toBeLessThan(2 ** l.outBoundBits);
      });
      expect(recorded).toBeGreaterThanOrEqual(2);
      expect(linearBounds(withOutBounds(model, weights))).toEqual(linearBounds(model));
    }
  });

  it("presignBits caps the bound of every pre-sign layer reading pixels or bits", () => {
    for (const P of [12, 20, 24]) {
      const { model, weights } = exportModel(randomDenseSignNet(1), { source, presignBits: P });
      const bounds = computeOutBounds(model, weights);
      model.layers.forEach((l, i) => {
        if (model.layers[i + 1]?.kind !== "sign") return;
        expect((l as LinearLayer).outBoundBits).toBeLessThanOrEqual(P);
        expect(bounds.get(i)).toBe((l as LinearLayer).outBoundBits);
      });
    }
    expect(() => exportModel(randomDenseSignNet(1), { source, presignBits: 31 })).toThrow(
      /presignBits: must be an integer in 1..30/,
    );
    expect(() => exportModel(randomDenseSignNet(1), { source, presignBits: 2 })).toThrow(
      /presignBits: 2 is too small for layer fc1/,
    );
  });

  it("a wrong bound is rejected with the field named; int-reading layers cannot carry one", () => {
    const { model, weights } = exportModel(randomDenseSignNet(2), { source, presignBits: 20 });
    const i = model.layers.findIndex((l) => "weights" in l);
    const bad = structuredClone(model);
    (bad.layers[i] as LinearLayer).outBoundBits = 5;
    expect(() => checkOutBounds(bad, weights)).toThrow(ExportFormatError);
    expect(() => checkOutBounds(bad, weights)).toThrow(
      /layers\[0\]\.outBoundBits: is 5 but layer "fc1"/,
    );
    const fm = randomReluNet(6);
    const calib = randomImages(seededRandom(5), 16, fm.input.shape);
    const relu = exportModel(fm, { source, calibration: { images: calib, count: 16 } });
    const j = relu.model.layers.findIndex(
      (l, k) => k > 0 && "weights" in l && l.inDomain === "int",
    );
    expect(j).toBeGreaterThan(0);
    expect((relu.model.layers[j] as LinearLayer).outBoundBits).toBeUndefined();
    const bad2 = structuredClone(relu.model);
    (bad2.layers[j] as LinearLayer).outBoundBits = 20;
    expect(() => checkExport(bad2, relu.weights.length)).toThrow(
      new RegExp(`layers\\[${j}\\]\\.outBoundBits: is only allowed`),
    );
  });

  it("intervalMaxAbs is reached by some input and never exceeded (brute force)", () => {
    const rnd = seededRandom(21);
    for (const maxU of [1, 255]) {
      for (let trial = 0; trial < 20; trial++) {
        const n = 1 + Math.floor(rnd() * 9);
        const outC = 1 + Math.floor(rnd() * 3);
        const positions = 1 + Math.floor(rnd() * 3);
        const w = Array.from({ length: n * outC }, () => Math.round((rnd() - 0.5) * 200));
        if (trial === 0) w.fill(0); // all-zero weights: the bound is |bias|
        const bias = Array.from({ length: positions * outC }, () =>
          Math.round((rnd() - 0.5) * 300),
        );
        const bound = intervalMaxAbs(w, (k) => k % outC, outC, bias, maxU);
        // the extremes are at corner inputs (each u_k = 0 or maxU): enumerate them
        let seen = 0;
        for (let mask = 0; mask < 2 ** n; mask++) {
          for (let k = 0; k < bias.length; k++) {
            const o = k % outC;
            let v = bias[k];
            for (let t = 0; t < n; t++) if ((mask >> t) & 1) v += w[t * outC + o] * maxU;
            seen = Math.max(seen, Math.abs(v));
          }
        }
        expect(bound).toBe(seen);
        // never looser than the older sum(|w|) * max + |bias|
        let loose = 0;
        for (let k = 0; k < bias.length; k++) {
          let a = 0;
          for (let t = 0; t < n; t++) a += Math.abs(w[t * outC + (k % outC)]);
          loose = Math.max(loose, a * maxU + Math.abs(bias[k]));
        }
        expect(bound).toBeLessThanOrEqual(loose);
      }
    }
  });
});
