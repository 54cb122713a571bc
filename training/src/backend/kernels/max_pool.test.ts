import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues, relError, runOn, wasmVsCpu } from "../testing";
import { originalWasmKernel } from "./index";

beforeAll(initWasmForTests);

type Pad = "same" | "valid";
const poolCases: Array<[number, number, number, Pad]> = [
  [2, 2, 2, "valid"],
  [2, 2, 2, "same"],
  [3, 3, 2, "same"],
  [3, 3, 1, "same"],
  [3, 2, 1, "valid"],
];

function poolGrad(k: number, kw: number, s: number, pad: Pad, values: Float32Array) {
  return () => {
    const x = tf.tensor4d(values, [2, 7, 6, 3]);
    const y = tf.maxPool(x, [k, kw], s, pad);
    const dy = tf.tensor(randomValues(y.size, 11), y.shape);
    return tf.grad((a: tf.Tensor) =>
      tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, [k, kw], s, pad), dy)),
    )(x);
  };
}

const n = 2 * 7 * 6 * 3;
const signs = randomValues(n, 3).map((v) => (v < 0 ? -1 : 1)); // ties everywhere, as after Sign

describe("MaxPoolGrad on wasm matches cpu", () => {
  poolCases.forEach(([k, kw, s, pad]) => {
    it(`${k}x${kw} s${s} ${pad}: random, all-negative, and +-1 ties`, async () => {
      expect(await wasmVsCpu(poolGrad(k, kw, s, pad, randomValues(n, 1)))).toBeLessThan(1e-4);
      expect(await wasmVsCpu(poolGrad(k, kw, s, pad, randomValues(n, 2, -5, -1)))).toBeLessThan(
        1e-4,
      );
      expect(await wasmVsCpu(poolGrad(k, kw, s, pad, signs))).toBeLessThan(1e-4);
    });
  });

  it("windows whose max is <= 0 route their gradient right (wasm's own kernel does not)", async () => {
    const xv = [-3, -1, -2, -4, 1, 2, 3, 4, -5, -6, -7, -8, 0, 0, 0, 0];
    const f = () =>
      tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, "valid")))(
        tf.tensor4d(xv, [1, 4, 4, 1]),
      );
    const [got] = await runOn("wasm", f);
    expect(Array.from(got!)).toEqual([0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0]);
    // The same case through wasm's replaced kernel shows the bug this override exists for.
    const orig = originalWasmKernel(tf.MaxPoolGrad)!;
    tf.unregisterKernel(tf.MaxPoolGrad, "wasm");
    tf.registerKernel(orig);
    try {
      const [buggy] = await runOn("wasm", f);
      expect(relError(buggy!, got!)).toBeGreaterThan(0.1);
    } finally {
      const mine = (await import("./max_pool_grad")).maxPoolGradConfig;
      tf.unregisterKernel(tf.MaxPoolGrad, "wasm");
      tf.registerKernel(mine);
    }
  });
});

describe("MaxPoolWithArgmax on wasm matches cpu", () => {
  for (const includeBatchInIndex of [false, true])
    it(`values and indexes, includeBatchInIndex=${includeBatchInIndex}`, async () => {
      for (const vals of [randomValues(n, 5), randomValues(n, 6, -3, -1), signs]) {
        const f = () => {
          const r = tf.maxPoolWithArgmax(
            tf.tensor4d(vals, [2, 7, 6, 3]),
            2,
            2,
            "same",
            includeBatchInIndex,
          );
          return [r.result, r.indexes.cast("float32")];
        };
        expect(await wasmVsCpu(f)).toBe(0);
      }
    });
});

describe("maxPoolGradTiled equals the general loop", () => {
  it("2x2 and 3x2 tiles over odd sizes, ties, -Infinity windows", async () => {
    const { maxPoolGradGeneral, maxPoolGradTiled, poolGeometry } = await import("./max_pool_grad");
    for (const [h, w, k, kw] of [
      [7, 6, 2, 2],
      [9, 8, 3, 2],
      [4, 4, 2, 2],
    ] as const) {
      const c = 5;
      const x = randomValues(2 * h * w * c, h + w).map((v) => (v < -0.5 ? -1 : v < 0 ? 1 : v));
      x.fill(Number.NEGATIVE_INFINITY, 0, 2 * w * c); // first window rows: no finite value
      const g = poolGeometry(
        tf.backend_util.computePool2DInfo([2, h, w, c], [k, kw], [k, kw], 1, "valid"),
      );
      const dy = randomValues(2 * g.outH * g.outW * c, 9);
      const a = new Float32Array(x.length);
      const b = new Float32Array(x.length);
      maxPoolGradTiled(x, dy, g, a);
      maxPoolGradGeneral(x, dy, g, b);
      expect(Array.from(a)).toEqual(Array.from(b));
    }
  });
});
