/** Messages between DataParallel (main thread) and its gradient workers. */

/** Where a worker finds the model builder: `(await import(module))[exportName](...args)`. */
export interface ModelSpec {
  /** file URL or absolute path of an ES module (TypeScript works under tsx) */
  module: string;
  /** name of the exported function returning a tf.LayersModel (weights are overwritten) */
  exportName: string;
  /** JSON-serialisable arguments for the builder */
  args: unknown[];
}

/**
 * Optional loss: an export `(yTrue: tf.Tensor, logits: tf.Tensor, ...args) => tf.Scalar`
 * returning the mean over the shard. Default: softmax cross-entropy of logits against
 * one-hot / soft labels.
 */
export interface LossSpec {
  module: string;
  exportName: string;
  /** JSON-serialisable arguments passed after (yTrue, logits) */
  args?: unknown[];
}

export interface FloatArray {
  data: Float32Array;
  shape: number[];
}

export type ToWorker =
  | { kind: "init"; model: ModelSpec; loss?: LossSpec; backend: "wasm" | "cpu" }
  | {
      kind: "step";
      id: number;
      weights: Float32Array[];
      x: FloatArray;
      y: FloatArray;
      /** seeds Math.random (dropout masks) for this step; absent = left as it is */
      seed?: number;
    }
  | { kind: "close" };

export type FromWorker =
  | { kind: "ready"; trainable: number[][]; all: number[][]; nonTrainable: number[][] }
  | {
      kind: "grads";
      id: number;
      loss: number;
      grads: Float32Array[];
      /** argmax of the logits, one per example of the shard */
      predictions: Int32Array;
      /** model.nonTrainableWeights after the step (BN moving statistics updated on this shard) */
      nonTrainable: Float32Array[];
    }
  | { kind: "error"; id?: number; message: string };
