import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues, wasmVsCpu } from "../testing";
import { leadingPrefix, splitRows } from "./reduce_leading";

beforeAll(initWasmForTests);

describe("leadingPrefix", () => {
  it("recognises leading prefixes only", () => {
    expect(leadingPrefix([0, 1, 2], 4)).toBe(3);
    expect(leadingPrefix([2, 0, 1], 4)).toBe(3);
    expect(leadingPrefix(0, 2)).toBe(1);
    expect(leadingPrefix([-4, -3], 4)).toBe(2);
    expect(leadingPrefix([1, 2], 4)).toBe(-1);
    expect(leadingPrefix([0, 2], 4)).toBe(-1);
  });
});

describe("splitRows", () => {
  it("splits large row counts into two factors near the square root", () => {
    expect(splitRows(65536)).toEqual([256, 256]);
    expect(splitRows(64 * 8 * 8)).toEqual([64, 64]);
    expect(splitRows(3 * 1031)).toEqual([1031, 3]);
    expect(splitRows(1031)).toEqual([1031, 1]); // prime: one reduction
    expect(splitRows(60)).toEqual([60, 1]);
  });
});

describe("Sum / Mean on wasm match cpu", () => {
  it("batch-norm sized reductions (65536 rows, offset values) stay within 1e-5", async () => {
    const big = () => tf.tensor4d(randomValues(64 * 32 * 32 * 5, 4, 1, 3), [64, 32, 32, 5]);
    const odd = () => tf.tensor3d(randomValues(7 * 1031 * 3, 5, -1, 2), [7, 1031, 3]);
    expect(
      await wasmVsCpu(() => [tf.sum(big(), [0, 1, 2]), tf.mean(big(), [0, 1, 2], true)]),
    ).toBeLessThan(1e-5);
    expect(await wasmVsCpu(() => [tf.sum(odd(), [0, 1]), tf.mean(odd(), 0)])).toBeLessThan(1e-5);
  });
  it("rows wider than wasm's AvgPool handles (20000 channels; it corrupts the heap) are summed right", async () => {
    const wide = () => tf.tensor2d(randomValues(40 * 20000, 6), [40, 20000]);
    expect(await wasmVsCpu(() => [tf.sum(wide(), 0), tf.mean(wide(), 0)])).toBeLessThan(1e-5);
    await tf.setBackend("wasm");
    expect(tf.tidy(() => tf.sum(tf.ones([1000, 1000]), 0).dataSync()[999])).toBe(1000);
  });
  const x = () => tf.tensor4d(randomValues(3 * 5 * 4 * 7, 9, -2, 3), [3, 5, 4, 7]);
  const axesList: Array<number | number[]> = [[0, 1, 2], 0, [0, 1, 2, 3], [1, 2], -1, [0, 2], [3]];
  for (const axes of axesList)
    for (const keepDims of [false, true])
      it(`axes ${JSON.stringify(axes)} keepDims=${keepDims}`, async () => {
        expect(
          await wasmVsCpu(() => [tf.sum(x(), axes, keepDims), tf.mean(x(), axes, keepDims)]),
        ).toBeLessThan(1e-5);
      });
  it("int32 sums go to wasm's own kernel and stay exact", async () => {
    const xi = () => tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], "int32");
    expect(await wasmVsCpu(() => tf.sum(xi(), 0).cast("float32"))).toBe(0);
  });
  it("shapes with keepDims match cpu", async () => {
    await tf.setBackend("wasm");
    expect(tf.sum(x(), [0, 1, 2], true).shape).toEqual([1, 1, 1, 7]);
    expect(tf.mean(x(), [0, 1], false).shape).toEqual([4, 7]);
  });
});
