import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildStepModel } from "./step_bench";
import { initWasmForTests, randomValues, relError } from "./testing";

beforeAll(initWasmForTests);

/** Loss, every gradient and the BN moving statistics after one training-mode pass. */
async function gradsOn(backend: "cpu" | "wasm", name: string) {
  await tf.setBackend(backend);
  const model = buildStepModel(name, 1, 3);
  const x = tf.tensor4d(randomValues(2 * 32 * 32 * 3, 5, -2, 2), [2, 32, 32, 3]);
  const y = tf.oneHot(tf.tensor1d([3, 8], "int32"), 10);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
    vars,
  );
  const out = {
    loss: value.dataSync()[0]!,
    grads: vars.map((v) => Float32Array.from(grads[v.name]!.dataSync())),
    stats: model.nonTrainableWeights.map((w) => Float32Array.from(w.read().dataSync())),
  };
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  await tf.setBackend("wasm");
  return out;
}

describe("a zoo student's training step on wasm matches cpu (all kernels and layers)", () => {
  for (const name of ["cifarnet2"])
    it(`${name}: -1 padding, separable convs, fused BN, Sign STE, maxpool`, async () => {
      const cpu = await gradsOn("cpu", name);
      const wasm = await gradsOn("wasm", name);
      expect(Math.abs(wasm.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-5);
      expect(wasm.grads.length).toBe(cpu.grads.length);
      cpu.grads.forEach((g, i) => {
        expect(relError(wasm.grads[i]!, g)).toBeLessThan(1e-4);
      });
      cpu.stats.forEach((s, i) => {
        expect(relError(wasm.stats[i]!, s)).toBeLessThan(1e-5);
      });
    }, 60_000);
});
