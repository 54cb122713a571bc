import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues, relError } from "./testing";
import { smallConvNet, trainStep } from "./train_step";

beforeAll(initWasmForTests);

async function stepOn(backend: "cpu" | "wasm") {
  await tf.setBackend(backend);
  const model = smallConvNet([16, 16, 3], 10, 7);
  const x = tf.tensor4d(randomValues(8 * 16 * 16 * 3, 1), [8, 16, 16, 3]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], "int32"), 10);
  const opt = tf.train.adam(0.01);
  const { loss, grads } = trainStep(model, opt, x, y);
  const out = {
    loss: loss.dataSync()[0]!,
    grads: Object.values(grads).map((g) => Float32Array.from(g.dataSync())),
    weights: model.getWeights().map((w) => Float32Array.from(w.dataSync())),
  };
  tf.dispose([loss, x, y, ...Object.values(grads)]);
  model.dispose();
  opt.dispose();
  await tf.setBackend("wasm");
  return out;
}

describe("a full training step on wasm matches cpu", () => {
  it("loss, every gradient and every updated weight (BN, separable conv, maxpool, dense)", async () => {
    const n0 = tf.memory().numTensors;
    const cpu = await stepOn("cpu");
    const n1 = tf.memory().numTensors;
    const wasm = await stepOn("wasm");
    // the custom kernels leak nothing: wasm keeps no more tensors than cpu does
    expect(tf.memory().numTensors - n1).toBe(n1 - n0);
    expect(Math.abs(wasm.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-5);
    expect(wasm.grads.length).toBe(cpu.grads.length);
    expect(wasm.grads.length).toBe(9); // conv 1, BN 2, separable 2, BN 2, dense 2
    for (let i = 0; i < cpu.grads.length; i++) {
      expect(relError(wasm.grads[i]!, cpu.grads[i]!)).toBeLessThan(1e-4);
    }
    for (let i = 0; i < cpu.weights.length; i++) {
      expect(relError(wasm.weights[i]!, cpu.weights[i]!)).toBeLessThan(1e-4);
    }
  });
});
