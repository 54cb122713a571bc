import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues, wasmVsCpu } from "../testing";
import { squeezeLeadingOnes } from "./binary_broadcast";

beforeAll(initWasmForTests);

describe("squeezeLeadingOnes", () => {
  it("squeezes [1,..,1,C] against an operand of at least its rank only", () => {
    expect(squeezeLeadingOnes([1, 1, 1, 8], [4, 5, 6, 8])).toEqual([8]);
    expect(squeezeLeadingOnes([1, 8], [3, 8])).toEqual([8]);
    expect(squeezeLeadingOnes([1, 1, 1, 8], [8])).toEqual([1, 1, 1, 8]); // output rank would drop
    expect(squeezeLeadingOnes([2, 1, 1, 8], [2, 5, 6, 8])).toEqual([2, 1, 1, 8]);
    expect(squeezeLeadingOnes([8], [4, 8])).toEqual([8]);
    expect(squeezeLeadingOnes([], [4, 8])).toEqual([]);
  });
});

describe("binary ops with [1,1,1,C] operands on wasm match cpu (values and shapes)", () => {
  it("softmax cross-entropy and its gradient on a batch of 1", async () => {
    const f = () => {
      const logits = tf.tensor2d(randomValues(5, 3), [1, 5]);
      const y = tf.oneHot(tf.tensor1d([2], "int32"), 5);
      const g = tf.grad((l: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, l))(logits);
      return [tf.losses.softmaxCrossEntropy(y, logits), g, tf.logSoftmax(logits)];
    };
    expect(await wasmVsCpu(f)).toBeLessThan(1e-5);
  });
  const x = () => tf.tensor4d(randomValues(2 * 3 * 4 * 5, 1), [2, 3, 4, 5]);
  const c = () => tf.tensor4d(randomValues(5, 2, 0.5, 2), [1, 1, 1, 5]);
  const ops: Record<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
    mul: tf.mul,
    add: tf.add,
    sub: tf.sub,
    div: tf.div,
  };
  for (const [name, op] of Object.entries(ops))
    it(name, async () => {
      const f = () => [
        op(x(), c()),
        op(c(), x()),
        op(c(), c().reshape([5])),
        op(c().reshape([1, 5]), x().reshape([24, 5])),
        // batch 1: both operands all-leading-ones (logSumExp's x - max(x) on [1, C])
        op(c().reshape([1, 5]), c().reshape([5, 1]).slice([0, 0], [1, 1])),
        op(c().reshape([1, 1, 1, 5]), c().reshape([1, 1, 1, 5])),
      ];
      expect(await wasmVsCpu(f)).toBeLessThan(1e-6);
      await tf.setBackend("wasm");
      const shapes = tf.tidy(() => f().map((t) => t.shape));
      expect(shapes).toEqual([
        [2, 3, 4, 5],
        [2, 3, 4, 5],
        [1, 1, 1, 5],
        [24, 5],
        [1, 5],
        [1, 1, 1, 5],
      ]);
    });
});
