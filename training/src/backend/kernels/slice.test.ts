import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues, wasmVsCpu } from "../testing";
import { sliceRuns } from "./slice";

beforeAll(initWasmForTests);

describe("sliceRuns", () => {
  it("copies a 3-D crop run by run, row-major", () => {
    const x = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const out = new Float32Array(2 * 2 * 2);
    expect(sliceRuns(x, [2, 3, 4], [0, 1, 1], [2, 2, 2], out, 1)).toBe(true);
    expect(Array.from(out)).toEqual([5, 6, 9, 10, 17, 18, 21, 22]);
  });
  it("refuses runs shorter than minRun (wasm's kernel takes those)", () => {
    const x = new Float32Array(24);
    expect(sliceRuns(x, [2, 3, 4], [0, 1, 1], [2, 2, 2], new Float32Array(8), 16)).toBe(false);
  });
});

describe("Slice on wasm matches cpu", () => {
  const x = () => tf.tensor4d(randomValues(3 * 9 * 8 * 20, 11), [3, 9, 8, 20]);
  const cases: Array<[number[], number[]]> = [
    [
      [0, 1, 1, 0],
      [3, 7, 6, 20],
    ], // the gradient of a 1-pixel pad
    [
      [1, 0, 0, 0],
      [2, -1, -1, -1],
    ],
    [
      [0, 2, 0, 0],
      [-1, 3, -1, -1],
    ],
    [
      [0, 0, 0, 5],
      [3, 9, 8, 10],
    ], // channel crop: short runs
    [
      [2, 8, 7, 19],
      [1, 1, 1, 1],
    ],
  ];
  for (const [b, s] of cases)
    it(`begin ${b} size ${s}`, async () => {
      expect(await wasmVsCpu(() => tf.slice(x(), b, s))).toBe(0);
    });
  it("int32 and 1-D, and the gradient of pad(-1)", async () => {
    expect(
      await wasmVsCpu(() =>
        tf
          .slice(
            tf.tensor2d(
              Int32Array.from({ length: 60 }, (_, i) => i),
              [3, 20],
              "int32",
            ),
            [1, 0],
            [2, 20],
          )
          .cast("float32"),
      ),
    ).toBe(0);
    expect(await wasmVsCpu(() => tf.slice(tf.tensor1d(randomValues(100, 3)), [17], [50]))).toBe(0);
    expect(
      await wasmVsCpu(() =>
        tf.grad((a: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.pad(
                a,
                [
                  [0, 0],
                  [1, 1],
                  [1, 1],
                  [0, 0],
                ],
                -1,
              ),
              tf.range(0, 3 * 11 * 10 * 20).reshape([3, 11, 10, 20]),
            ),
          ),
        )(x()),
      ),
    ).toBe(0);
  });
});
