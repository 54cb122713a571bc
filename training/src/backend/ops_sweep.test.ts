import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { signSTE } from "../layers/sign";
import { initWasmForTests, randomValues, wasmVsCpu } from "./testing";

beforeAll(initWasmForTests);

/**
 * Gradients of other ops a CBNN trainer uses (teachers, students, KD loss), wasm vs cpu:
 * guards against more wasm kernel bugs like the maxpool one.
 */
const x4 = () => tf.tensor4d(randomValues(2 * 6 * 6 * 4, 21, -2, 2), [2, 6, 6, 4]);
const gradOf = (f: (x: tf.Tensor4D) => tf.Tensor) => () => {
  const x = x4();
  const w = tf.tensor(randomValues(f(x).size, 22), f(x).shape);
  return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D), w)))(x);
};

const cases: Record<string, (x: tf.Tensor4D) => tf.Tensor> = {
  "avgPool 2x2 s2 valid": (x) => tf.avgPool(x, 2, 2, "valid"),
  "avgPool 3x3 s1 same": (x) => tf.avgPool(x, 3, 1, "same"),
  "global average pool (mean over H, W)": (x) => tf.mean(x, [1, 2]),
  "sign with straight-through estimator": (x) =>
    tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const a = args[0] as tf.Tensor;
      (args[1] as tf.GradSaveFunc)([a]);
      return {
        value: tf.sign(a),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
          tf.mul(dy as tf.Tensor, tf.cast(tf.lessEqual(tf.abs(saved[0]!), 1), "float32")),
      };
    })(x),
  "the students' signSTE (Step-based forward and mask)": (x) => signSTE(x),
  "pad with -1": (x) =>
    tf.pad(
      x,
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
      -1,
    ),
  "relu, leakyRelu, clipByValue": (x) =>
    tf.add(tf.add(tf.relu(x), tf.leakyRelu(x, 0.1)), tf.clipByValue(x, -1, 1)),
  "concat of two branches": (x) => tf.concat([tf.relu(x), tf.neg(x)], 3),
  "logSoftmax / KD soft targets at T=4": (x) => tf.logSoftmax(tf.div(x.reshape([2, 144]), 4)),
  "conv 1x1 stride 2 (ResNet shortcut)": (x) =>
    tf.conv2d(x, tf.tensor4d(randomValues(4 * 8, 23), [1, 1, 4, 8]), 2, "same"),
};

describe("gradients of other training ops on wasm match cpu", () => {
  for (const [name, f] of Object.entries(cases))
    it(name, async () => {
      expect(await wasmVsCpu(gradOf(f))).toBeLessThan(1e-4);
    });
});

describe("the students' signSTE on wasm equals its definition at the edges", () => {
  it("forward +-1 (0 and -0 -> +1) and gradient mask |x| <= 1", async () => {
    const xs = [0, -0, 1, -1, 1.0000001, -1.0000001, 0.9999999, 2, -2, 1e-30, -1e-30, 3e38];
    const f = () => {
      const x = tf.tensor1d(xs);
      const dy = tf.tensor1d(xs.map((_, i) => i + 1));
      return [signSTE(x), tf.grad((a: tf.Tensor) => signSTE(a))(x, dy)];
    };
    const want = xs.map((v) => (v >= 0 ? 1 : -1));
    const wantG = xs.map((v, i) => (Math.abs(Math.fround(v)) <= 1 ? i + 1 : 0));
    for (const backend of ["wasm", "cpu"] as const) {
      await tf.setBackend(backend);
      const [y, g] = tf.tidy(f);
      expect(Array.from(y!.dataSync())).toEqual(want);
      expect(Array.from(g!.dataSync())).toEqual(wantG);
      tf.dispose([y!, g!]);
    }
    await tf.setBackend("wasm");
  });
});
