import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues, relError } from "../testing";
import { smallConvNet } from "../train_step";
import { DataParallel, shards, weightedSum } from "./data_parallel";

describe("shards / weightedSum", () => {
  it("split rows evenly and contiguously", () => {
    expect(shards(7, 2)).toEqual([
      [0, 4],
      [4, 3],
    ]);
    expect(shards(1, 2)).toEqual([[0, 1]]);
    expect(shards(6, 3)).toEqual([
      [0, 2],
      [2, 2],
      [4, 2],
    ]);
  });
  it("weights parts", () => {
    const r = weightedSum([Float32Array.of(1, 2), Float32Array.of(3, 6)], [0.25, 0.75]);
    expect(Array.from(r)).toEqual([2.5, 5]);
  });
});

describe("DataParallel over 2 wasm workers", () => {
  let dp: DataParallel;
  const spec = {
    module: new URL("../train_step.ts", import.meta.url).href,
    exportName: "smallConvNet",
    args: [[12, 12, 2], 5, 3],
  };
  beforeAll(async () => {
    await initWasmForTests();
    dp = await DataParallel.create({ model: spec, workers: 2 });
  }, 60_000);
  afterAll(async () => {
    await dp?.close();
  });

  it("averaged gradients and BN statistics equal the per-shard computation on this thread", async () => {
    const n = 6;
    const xd = randomValues(n * 12 * 12 * 2, 4);
    const labels = [0, 1, 2, 3, 4, 0];
    const yd = new Float32Array(n * 5);
    labels.forEach((l, i) => {
      yd[i * 5 + l] = 1;
    });
    const model = smallConvNet([12, 12, 2], 5, 3);
    const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
    const got = await dp.gradients(
      weights,
      { data: xd, shape: [n, 12, 12, 2] },
      { data: yd, shape: [n, 5] },
    );

    // reference: the same two shards (3 + 3 rows) on this thread, then averaged
    const refGrads: Float32Array[][] = [];
    const refStats: Float32Array[][] = [];
    const refPred: number[] = [];
    let refLoss = 0;
    for (const [start, count] of shards(n, 2)) {
      model.setWeights(weights.map((w, i) => tf.tensor(w, model.weights[i]!.shape as number[])));
      const x = tf.tensor4d(xd.slice(start * 288, (start + count) * 288), [count, 12, 12, 2]);
      const y = tf.tensor2d(yd.slice(start * 5, (start + count) * 5), [count, 5]);
      const { value, grads } = tf.variableGrads(
        () => {
          const logits = model.apply(x, { training: true }) as tf.Tensor;
          refPred.push(...tf.argMax(logits, -1).dataSync());
          return tf.losses.softmaxCrossEntropy(y, logits);
        },
        model.trainableWeights.map((w) => w.read() as tf.Variable),
      );
      refLoss += (value.dataSync()[0]! * count) / n;
      refGrads.push(Object.values(grads).map((g) => Float32Array.from(g.dataSync())));
      refStats.push(model.nonTrainableWeights.map((w) => Float32Array.from(w.read().dataSync())));
    }
    expect(Math.abs(got.loss - refLoss) / refLoss).toBeLessThan(1e-5);
    expect(Array.from(got.predictions)).toEqual(refPred);
    expect(got.grads.length).toBe(refGrads[0]!.length);
    for (let i = 0; i < got.grads.length; i++) {
      const want = weightedSum([refGrads[0]![i]!, refGrads[1]![i]!], [0.5, 0.5]);
      expect(relError(got.grads[i]!, want)).toBeLessThan(1e-4);
    }
    expect(got.nonTrainable.length).toBe(4); // moving mean + variance of two BN layers
    for (let i = 0; i < got.nonTrainable.length; i++) {
      const want = weightedSum([refStats[0]![i]!, refStats[1]![i]!], [0.5, 0.5]);
      expect(relError(got.nonTrainable[i]!, want)).toBeLessThan(1e-5);
    }
    model.dispose();
  }, 60_000);

  it("a worker whose model builder is missing fails create() with the export named", async () => {
    await expect(
      DataParallel.create({ model: { ...spec, exportName: "noSuchBuilder" }, workers: 1 }),
    ).rejects.toThrow(/noSuchBuilder/);
  }, 60_000);

  it("rejects a wrong number of weight arrays", async () => {
    await expect(
      dp.gradients(
        [],
        { data: new Float32Array(288), shape: [1, 12, 12, 2] },
        { data: new Float32Array(5), shape: [1, 5] },
      ),
    ).rejects.toThrow(/weights: expected/);
  });

  it("after a worker exits, gradients() fails at once instead of waiting for it", async () => {
    const one = await DataParallel.create({ model: spec, workers: 1 });
    const model = smallConvNet([12, 12, 2], 5, 3);
    const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
    model.dispose();
    const x = { data: new Float32Array(288), shape: [1, 12, 12, 2] };
    const y = { data: new Float32Array(5), shape: [1, 5] };
    await one.gradients(weights, x, y);
    // a worker thread dying between steps (here: terminated behind DataParallel's back)
    const workers = (one as unknown as { workers: { terminate(): Promise<number> }[] }).workers;
    await workers[0]!.terminate();
    await new Promise((r) => setTimeout(r, 50));
    await expect(one.gradients(weights, x, y)).rejects.toThrow(/gradient worker exited/);
    await one.close();
  }, 60_000);
});
