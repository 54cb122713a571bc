import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues, wasmVsCpu } from "../testing";

beforeAll(initWasmForTests);

const t = (shape: number[], seed: number, lo = -2, hi = 2) =>
  tf.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
      lo,
      hi,
    ),
    shape,
  );

describe("FusedBatchNorm on wasm matches cpu", () => {
  it("with and without scale/offset, 1-D and 4-D statistics", async () => {
    const x = () => t([3, 5, 4, 6], 1, -3, 5);
    const mean = () => t([6], 2);
    const variance = () => t([6], 3, 0.01, 4);
    const offset = () => t([6], 4);
    const scale = () => t([6], 5);
    expect(
      await wasmVsCpu(() => [
        tf.batchNorm(x(), mean(), variance(), offset(), scale(), 1e-3),
        tf.batchNorm(x(), mean(), variance(), undefined, scale(), 1e-5),
        tf.batchNorm(x(), mean(), variance(), offset(), undefined, 0.1),
        tf.batchNorm(x(), mean(), variance()),
        tf.batchNorm(
          x(),
          mean().reshape([1, 1, 1, 6]),
          variance().reshape([1, 1, 1, 6]),
          offset().reshape([1, 1, 1, 6]),
          scale().reshape([1, 1, 1, 6]),
          1e-3,
        ),
        tf.batchNorm(t([7, 6], 6), mean(), variance(), offset(), scale(), 1e-3),
      ]),
    ).toBeLessThan(1e-5);
  });

  it("gradients through batchNorm (x, mean, variance, offset, scale) match cpu", async () => {
    const f = () => {
      const w = t([3, 5, 4, 6], 9);
      return tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
        tf.sum(tf.mul(tf.batchNorm(a, m, v, o, s, 1e-3), w)),
      )([t([3, 5, 4, 6], 1, -3, 5), t([6], 2), t([6], 3, 0.01, 4), t([6], 4), t([6], 5)]);
    };
    expect(await wasmVsCpu(f)).toBeLessThan(1e-4);
  });
});
