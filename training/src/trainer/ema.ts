import * as tf from "@tensorflow/tfjs";
import { packFloat32, unpackFloat32 } from "./float32-blob";

/**
 * Exponential moving average of a model's weights (Polyak averaging, as
 * TensorFlow's ExponentialMovingAverage and timm's ModelEma): after every
 * optimizer step each shadow weight becomes
 *
 *   shadow = d * shadow + (1 - d) * weight,   d = min(decay, (1 + n) / (10 + n))
 *
 * where n counts the updates so far (TensorFlow's num_updates warm-up, so a run
 * that starts from fresh weights is not dragged back to them for ~1/(1 - decay)
 * steps). Every weight is averaged, batch norm's moving statistics included
 * (timm's choice): the averaged weights are a model of their own that
 * validation, the checkpoint and the export read. The shadows are float32
 * variables, updated in a fixed order, so a resumed run is bit-identical.
 */
export class WeightEma {
  private readonly shadows: tf.Variable[];

  constructor(
    private readonly model: tf.LayersModel,
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new Error(`ema decay must be in (0, 1), got ${decay}`);
    // a variable shares its initial tensor's data (tensors are immutable): no copy to free
    this.shadows = model.weights.map((w) => tf.variable(w.read(), false));
  }

  /** The decay of update number `n` (0-based). */
  static decayAt(decay: number, n: number): number {
    return Math.min(decay, (1 + n) / (10 + n));
  }

  /** Folds the model's current weights into the average; `n` is the number of earlier updates. */
  update(n: number): void {
    const d = WeightEma.decayAt(this.decay, n);
    const weights = this.model.weights;
    tf.tidy(() => {
      this.shadows.forEach((s, i) => {
        s.assign(tf.add(tf.mul(s, d), tf.mul(weights[i]!.read(), 1 - d)));
      });
    });
  }

  /**
   * Runs `fn` with the averaged weights in the model, then puts the trained weights
   * back; `fn` gets the copy of the trained weights that is put back.
   */
  async withAverage<T>(fn: (trained: WeightSnapshot) => T | Promise<T>): Promise<T> {
    const trained = snapshotWeights(this.model);
    this.model.setWeights(this.shadows);
    try {
      return await fn(trained);
    } finally {
      restoreWeights(this.model, trained);
    }
  }

  dispose(): void {
    for (const s of this.shadows) s.dispose();
  }
}

/** A copy of a model's weights, in `model.weights` order. */
export interface WeightSnapshot {
  shapes: number[][];
  values: Float32Array[];
}

/** Copies the model's weights out (a copy: later writes to the model do not change it). */
export function snapshotWeights(model: tf.LayersModel): WeightSnapshot {
  const ws = model.weights;
  return {
    shapes: ws.map((w) => [...w.shape] as number[]),
    values: ws.map((w) => Float32Array.from(w.read().dataSync() as Float32Array)),
  };
}

/** Writes a snapshot back into the model, checking that the shapes agree. */
export function restoreWeights(
  model: tf.LayersModel,
  snap: WeightSnapshot,
  where = "weights",
): void {
  const ws = model.weights;
  if (snap.values.length !== ws.length)
    throw new Error(`${where}: ${snap.values.length} tensors, the model has ${ws.length}`);
  const tensors = snap.values.map((v, i) => {
    const want = ws[i]!.shape as number[];
    const got = snap.shapes[i]!;
    if (got.length !== want.length || got.some((d, k) => d !== want[k]))
      throw new Error(`${where}: tensor ${i} has shape [${got}], the model expects [${want}]`);
    return tf.tensor(v, want, "float32");
  });
  try {
    model.setWeights(tensors);
  } finally {
    for (const t of tensors) t.dispose();
  }
}

/** The JSON header of a weight snapshot file (the blob holds the float32 values in order). */
export interface WeightSnapshotJson {
  kind: "weights";
  shapes: number[][];
}

export function encodeWeightSnapshot(snap: WeightSnapshot): {
  json: WeightSnapshotJson;
  bin: Uint8Array;
} {
  return { json: { kind: "weights", shapes: snap.shapes }, bin: packFloat32(snap.values) };
}

export function decodeWeightSnapshot(
  json: WeightSnapshotJson,
  bin: Uint8Array,
  where: string,
): WeightSnapshot {
  if (json.kind !== "weights") throw new Error(`${where}: kind ${json.kind}, expected weights`);
  const sizes = json.shapes.map((s) => s.reduce((a, b) => a * b, 1));
  return { shapes: json.shapes, values: unpackFloat32(bin, sizes, where) };
}
