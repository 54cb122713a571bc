import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues, relError, runOn, wasmVsCpu } from "../testing";
import { needsFreshCopy } from "./batch_mat_mul";

beforeAll(initWasmForTests);

const t = (shape: number[], seed: number) =>
  tf.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

describe("BatchMatMul / _FusedMatMul on wasm match cpu", () => {
  for (const ta of [false, true])
    for (const tb of [false, true])
      it(`transposeA=${ta} transposeB=${tb}, 2-D and batched`, async () => {
        const a2 = ta ? [7, 5] : [5, 7];
        const b2 = tb ? [3, 7] : [7, 3];
        expect(await wasmVsCpu(() => tf.matMul(t(a2, 1), t(b2, 2), ta, tb))).toBeLessThan(1e-4);
        expect(
          await wasmVsCpu(() => tf.matMul(t([4, ...a2], 3), t([4, ...b2], 4), ta, tb)),
        ).toBeLessThan(1e-4);
        expect(
          await wasmVsCpu(() =>
            tf.fused.matMul({
              a: t(a2, 5),
              b: t(b2, 6),
              transposeA: ta,
              transposeB: tb,
              bias: t([3], 7),
              activation: "relu",
            }),
          ),
        ).toBeLessThan(1e-4);
      });

  it("the same buffer reshaped and multiplied again gives the right product", async () => {
    const f = () => {
      const w = t([6, 4], 1);
      const y1 = tf.matMul(t([3, 6], 2), w);
      const y2 = tf.matMul(t([3, 8], 3), w.reshape([8, 3]));
      const y3 = tf.fused.matMul({ a: t([2, 12], 4), b: w.reshape([12, 2]) });
      return [y1, y2, y3];
    };
    const want = await runOn("cpu", f);
    const got = await runOn("wasm", f);
    for (let i = 0; i < 3; i++) expect(relError(got[i]!, want[i]!)).toBeLessThan(1e-4);
  });

  it("needsFreshCopy: first shape free, same shape free, new shape copies", () => {
    const id = {};
    expect(needsFreshCopy(id, [6, 4])).toBe(false);
    expect(needsFreshCopy(id, [6, 4])).toBe(false);
    expect(needsFreshCopy(id, [8, 3])).toBe(true);
  });
});
