import {
  evaluateFixed,
  exportModel,
  randomConvSignNet,
  randomDenseSignNet,
  randomImages,
  randomReluNet,
  seededRandom,
  traceRanges,
} from "@cbnn/shared";
import { describe, expect, it } from "vitest";
import { runSecureLocal } from "../testing/harness";

function argmax(v: Int32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (v[row * classes + c] > v[row * classes + best]) best = c;
  return best;
}

describe("runSecureInference", () => {
  it("dense Sign net: equals the reference evaluator bit for bit (secure MSB)", async () => {
    const { model, weights } = exportModel(randomDenseSignNet(1), {
      source: { checkpoint: "test" },
    });
    const count = 6;
    const images = randomImages(seededRandom(2), count, model.input.shape);
    images.fill(0, 0, 64); // an all-black image
    images.fill(255, 64, 128); // an all-white one
    const ref = evaluateFixed(model, weights, images, count);
    // the exporter raises pre-sign fracBits up to the ring's headroom (29+ bits here), beyond
    // the cbnn MSB's correctness bound (<= 28 bits): only the secure MSB is checked on this net
    const ranges = traceRanges(model, weights, images, count);
    const bound = Math.max(
      ...ranges.filter((_, i) => model.layers[i + 1]?.kind === "sign").map((r) => r.bits),
    );
    expect(bound).toBeGreaterThan(0);
    for (const msb of ["secure"] as const) {
      const res = await runSecureLocal(model, weights, images, count, {
        msb,
        cbnnInputBits: bound,
      });
      expect(res[1].logits).toBeNull();
      expect(res[2].logits).toBeNull();
      expect(Array.from(res[0].logits!)).toEqual(Array.from(ref));
    }
  });

  it("conv Sign net (separable convs, padding, maxpool OR and sum-sign): bit for bit", async () => {
    const r = seededRandom(4);
    const calib = randomImages(r, 8, [10, 10, 3]);
    const { model, weights } = exportModel(randomConvSignNet(3), {
      source: { checkpoint: "test" },
      calibration: { images: calib, count: 8 },
    });
    expect(model.layers.some((l) => l.kind === "maxpool")).toBe(true);
    const count = 3;
    const images = randomImages(r, count, model.input.shape);
    const ref = evaluateFixed(model, weights, images, count);
    const res = await runSecureLocal(model, weights, images, count);
    expect(Array.from(res[0].logits!)).toEqual(Array.from(ref));
    const res2 = await runSecureLocal(model, weights, images, count, { maxpool: "sum-sign" });
    expect(Array.from(res2[0].logits!)).toEqual(Array.from(ref));
  });

  it("ReLU net with truncation: same argmax as the reference, logits within a few LSB", async () => {
    const r = seededRandom(5);
    const calib = randomImages(r, 16, [8, 8, 2]);
    const { model, weights } = exportModel(randomReluNet(6), {
      source: { checkpoint: "test" },
      calibration: { images: calib, count: 16 },
    });
    expect(model.layers.some((l) => "outShift" in l && l.outShift > 0)).toBe(true);
    const count = 8;
    const images = randomImages(r, count, model.input.shape);
    const ref = evaluateFixed(model, weights, images, count);
    const res = await runSecureLocal(model, weights, images, count);
    const got = res[0].logits!;
    const classes = model.classes.length;
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
    // truncation is at most 1 LSB low per shift; the next layer's weights scale that up
    expect(maxDiff).toBeLessThan(1 << 14);
    // argmax must agree wherever the reference's top-2 gap exceeds the error bound used above
    let checked = 0;
    for (let b = 0; b < count; b++) {
      const row = Array.from(ref.subarray(b * classes, (b + 1) * classes)).sort((p, q) => q - p);
      if (row[0] - row[1] < 2 << 14) continue;
      checked++;
      expect(argmax(got, b, classes)).toBe(argmax(ref, b, classes));
    }
    expect(checked).toBeGreaterThan(count / 2);
  });
});
