import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  decodeWeightSnapshot,
  encodeWeightSnapshot,
  restoreWeights,
  snapshotWeights,
  WeightEma,
} from "./ema";
import { mulberry32 } from "./rng";
import { tinyModel } from "./test-helpers";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Sets every weight of the model to fresh random values; returns them. */
function randomise(model: tf.LayersModel, seed: number): Float32Array[] {
  const rnd = mulberry32(seed);
  const shapes = model.weights.map((w) => w.shape as number[]);
  const values = shapes.map((sh) => {
    const n = sh.reduce((a, b) => a * b, 1);
    return Float32Array.from({ length: n }, () => (rnd() - 0.5) * 4);
  });
  restoreWeights(model, { shapes, values });
  return values;
}

function current(model: tf.LayersModel): Float32Array[] {
  return snapshotWeights(model).values;
}

describe("WeightEma", () => {
  it("warms up as TensorFlow's num_updates rule and then keeps the set decay", () => {
    expect(WeightEma.decayAt(0.999, 0)).toBeCloseTo(0.1, 12);
    expect(WeightEma.decayAt(0.999, 10)).toBeCloseTo(11 / 20, 12);
    expect(WeightEma.decayAt(0.999, 1e6)).toBe(0.999);
    expect(WeightEma.decayAt(0.5, 0)).toBeCloseTo(0.1, 12);
    expect(WeightEma.decayAt(0.5, 100)).toBe(0.5);
  });

  it("averages every weight (BN statistics included) as the formula says, on random weights", async () => {
    const model = tinyModel(3);
    const w0 = randomise(model, 1);
    const ema = new WeightEma(model, 0.9);
    // float64 reference of the same recurrence, starting from the weights at construction
    const ref = w0.map((v) => Float64Array.from(v));
    for (let n = 0; n < 25; n++) {
      const w = randomise(model, 100 + n);
      ema.update(n);
      const d = WeightEma.decayAt(0.9, n);
      ref.forEach((r, i) => {
        for (let k = 0; k < r.length; k++) r[k] = d * r[k]! + (1 - d) * w[i]![k]!;
      });
    }
    const trained = current(model);
    let handed: Float32Array[] = [];
    const avg = await ema.withAverage((t) => {
      handed = t.values;
      return current(model);
    });
    // the callback gets the trained weights it will see put back
    handed.forEach((a, i) => {
      expect(Array.from(a)).toEqual(Array.from(trained[i]!));
    });
    expect(avg.length).toBe(model.weights.length);
    avg.forEach((a, i) => {
      for (let k = 0; k < a.length; k++) expect(a[k]).toBeCloseTo(ref[i]![k]!, 4);
    });
    // the trained weights are back afterwards, bit for bit, and differ from the average
    const after = current(model);
    after.forEach((a, i) => {
      expect(Buffer.from(a.buffer).equals(Buffer.from(trained[i]!.buffer))).toBe(true);
    });
    expect(after.some((a, i) => a.some((x, k) => x !== avg[i]![k]))).toBe(true);
    ema.dispose();
    model.dispose();
  });

  it("an update with unchanged weights leaves the average alone; a new average starts at the model's weights", async () => {
    const model = tinyModel(4);
    const w = randomise(model, 7);
    const ema = new WeightEma(model, 0.99);
    ema.update(1000);
    (await ema.withAverage(() => current(model))).forEach((a, i) => {
      for (let k = 0; k < a.length; k++) expect(a[k]).toBeCloseTo(w[i]![k]!, 5);
    });
    ema.dispose();
    // as on resume: the average is built from the (averaged) weights just loaded
    const w2 = randomise(model, 8);
    const fresh = new WeightEma(model, 0.99);
    const avg = await fresh.withAverage(() => current(model));
    avg.forEach((a, i) => {
      expect(Array.from(a)).toEqual(Array.from(w2[i]!));
    });
    fresh.dispose();
    model.dispose();
  });

  it("puts the trained weights back when the callback throws", async () => {
    const model = tinyModel(5);
    randomise(model, 9);
    const ema = new WeightEma(model, 0.9);
    const trained = randomise(model, 10);
    await expect(
      ema.withAverage(() => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    current(model).forEach((a, i) => {
      expect(Array.from(a)).toEqual(Array.from(trained[i]!));
    });
    ema.dispose();
    model.dispose();
  });

  it("frees every tensor it made when disposed", async () => {
    const model = tinyModel(14);
    randomise(model, 15);
    const before = tf.memory();
    const ema = new WeightEma(model, 0.9);
    ema.update(0);
    randomise(model, 16);
    ema.update(1);
    await ema.withAverage(() => current(model));
    ema.dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    model.dispose();
  });

  it("refuses a decay outside (0, 1)", () => {
    const model = tinyModel(6);
    for (const d of [0, 1, -0.5, 1.5, Number.NaN])
      expect(() => new WeightEma(model, d)).toThrow(/ema decay must be in \(0, 1\)/);
    model.dispose();
  });
});

describe("weight snapshots", () => {
  it("round-trip through their file encoding exactly", () => {
    const model = tinyModel(11);
    randomise(model, 12);
    const snap = snapshotWeights(model);
    const { json, bin } = encodeWeightSnapshot(snap);
    const back = decodeWeightSnapshot(json, bin, "t");
    expect(back.shapes).toEqual(snap.shapes);
    back.values.forEach((v, i) => {
      expect(Array.from(v)).toEqual(Array.from(snap.values[i]!));
    });
    model.dispose();
  });

  it("reject a blob of the wrong size, a wrong kind and a model of other shapes", () => {
    const model = tinyModel(13);
    const { json, bin } = encodeWeightSnapshot(snapshotWeights(model));
    expect(() => decodeWeightSnapshot(json, bin.subarray(4), "w.bin")).toThrow(
      /w\.bin: \d+ bytes, the header needs \d+/,
    );
    expect(() =>
      decodeWeightSnapshot({ ...json, kind: "adam" as "weights" }, bin, "w.bin"),
    ).toThrow(/kind adam, expected weights/);
    const other = tinyModel(13, [8, 8, 1], 5);
    expect(() => restoreWeights(other, decodeWeightSnapshot(json, bin, "w"), "w.json")).toThrow(
      /w\.json: tensor \d+ has shape/,
    );
    model.dispose();
    other.dispose();
  });
});
