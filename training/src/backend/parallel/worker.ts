import { parentPort } from "node:worker_threads";
import type * as tfNs from "@tensorflow/tfjs";
import { initBackend } from "../init";
import type { FromWorker, LossSpec, ModelSpec, ToWorker } from "./protocol";

type Tf = typeof tfNs;
type LossFn = (yTrue: tfNs.Tensor, logits: tfNs.Tensor) => tfNs.Scalar;

async function load<T>(spec: { module: string; exportName: string }): Promise<T> {
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const f = mod[spec.exportName];
  if (typeof f !== "function") {
    throw new Error(`${spec.module}: export "${spec.exportName}" is not a function`);
  }
  return f as T;
}

let tf: Tf;
let model: tfNs.LayersModel;
let lossFn: LossFn;

async function init(spec: ModelSpec, loss: LossSpec | undefined, backend: "wasm" | "cpu") {
  tf = (await initBackend({ backend, log: () => {} })).tf;
  const build = await load<(...a: unknown[]) => tfNs.LayersModel>(spec);
  model = build(...spec.args);
  lossFn = loss
    ? await load<LossFn>(loss)
    : (y, logits) => tf.losses.softmaxCrossEntropy(y, logits) as tfNs.Scalar;
  const reply: FromWorker = {
    kind: "ready",
    trainable: model.trainableWeights.map((w) => w.shape as number[]),
    all: model.weights.map((w) => w.shape as number[]),
    nonTrainable: model.nonTrainableWeights.map((w) => w.shape as number[]),
  };
  parentPort!.postMessage(reply);
}

function step(msg: Extract<ToWorker, { kind: "step" }>) {
  const out = tf.tidy(() => {
    model.setWeights(msg.weights.map((w, i) => tf.tensor(w, model.weights[i]!.shape as number[])));
    const x = tf.tensor(msg.x.data, msg.x.shape);
    const y = tf.tensor(msg.y.data, msg.y.shape);
    const { value, grads } = tf.variableGrads(
      () => lossFn(y, model.apply(x, { training: true }) as tfNs.Tensor),
      model.trainableWeights.map((w) => w.read() as tfNs.Variable),
    );
    const names = model.trainableWeights.map((w) => (w.read() as tfNs.Variable).name);
    return {
      loss: value.dataSync()[0]!,
      grads: names.map((n) => Float32Array.from(grads[n]!.dataSync())),
      nonTrainable: model.nonTrainableWeights.map((w) => Float32Array.from(w.read().dataSync())),
    };
  });
  const reply: FromWorker = { kind: "grads", id: msg.id, ...out };
  parentPort!.postMessage(
    reply,
    [...out.grads, ...out.nonTrainable].map((a) => a.buffer as ArrayBuffer),
  );
}

parentPort!.on("message", (msg: ToWorker) => {
  const fail = (e: unknown, id?: number) => {
    const reply: FromWorker = {
      kind: "error",
      id,
      message: e instanceof Error ? e.message : String(e),
    };
    parentPort!.postMessage(reply);
  };
  if (msg.kind === "init") init(msg.model, msg.loss, msg.backend).catch((e) => fail(e));
  else if (msg.kind === "step") {
    try {
      step(msg);
    } catch (e) {
      fail(e, msg.id);
    }
  } else if (msg.kind === "close") process.exit(0);
});
