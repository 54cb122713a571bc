import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues, wasmVsCpu } from "../testing";
import { tileMath } from "./tile";

beforeAll(initWasmForTests);

describe("tileMath", () => {
  it("matches a direct index computation", () => {
    const shape = [2, 1, 3];
    const reps = [2, 3, 2];
    const src = Float32Array.from(randomValues(6, 1));
    const out = new Float32Array(4 * 3 * 6);
    tileMath(src, shape, reps, out);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 6; k++)
          expect(out[(i * 3 + j) * 6 + k]).toBe(src[((i % 2) * 1 + 0) * 3 + (k % 3)]);
  });
});

describe("Tile on wasm matches cpu", () => {
  const cases: Array<[number[], number[]]> = [
    [
      [1, 1, 1, 5],
      [3, 4, 2, 1],
    ], // the batch-norm gradient pattern
    [
      [2, 3],
      [1, 1],
    ],
    [
      [2, 3],
      [3, 2],
    ],
    [[4], [5]],
    [
      [2, 1, 3, 2],
      [1, 3, 1, 2],
    ],
  ];
  for (const [shape, reps] of cases)
    it(`[${shape}] x [${reps}], float32 and int32`, async () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const v = randomValues(size, size);
      expect(await wasmVsCpu(() => tf.tile(tf.tensor(v, shape), reps))).toBe(0);
      const ints = Int32Array.from(v, (x) => Math.round(x * 100));
      expect(
        await wasmVsCpu(() => tf.tile(tf.tensor(ints, shape, "int32"), reps).cast("float32")),
      ).toBe(0);
    });
});
