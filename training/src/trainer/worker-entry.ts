/**
 * What `pnpm train --workers N` runs inside each gradient worker (DataParallel's
 * ModelSpec / LossSpec name these exports): the zoo model, and the KD loss with its
 * inputs packed into one float array, since a worker step takes a single `y`.
 */
import * as tf from "@tensorflow/tfjs";
import { type KdLossOptions, kdLoss } from "../kd";
import { type BuildOptions, buildModel } from "../zoo/build";
import type { ModelConfig } from "../zoo/config";

/** Module URL of this file, for DataParallel's ModelSpec and LossSpec. */
export const TRAINER_WORKER_MODULE: string = new URL("./worker-entry.ts", import.meta.url).href;

/** The zoo model `config` as the trainer builds it (weights are overwritten each step). */
export function buildZooModel(config: ModelConfig, opts: BuildOptions): tf.LayersModel {
  return buildModel(tf, config, opts);
}

/**
 * Packs integer labels and (when distilling) teacher logits into rows of
 * [label, teacher logit 0, ..., teacher logit classes-1], or [label] without a teacher.
 */
export function packTargets(
  labels: ArrayLike<number>,
  teacher: Float32Array | null,
  classes: number,
): { data: Float32Array; shape: [number, number] } {
  const n = labels.length;
  const cols = teacher ? 1 + classes : 1;
  if (teacher && teacher.length !== n * classes) {
    throw new Error(`packTargets: ${teacher.length} teacher logits for ${n} x ${classes}`);
  }
  const data = new Float32Array(n * cols);
  for (let i = 0; i < n; i++) {
    data[i * cols] = labels[i]!;
    if (teacher) data.set(teacher.subarray(i * classes, (i + 1) * classes), i * cols + 1);
  }
  return { data, shape: [n, cols] };
}

/**
 * The trainer's loss on packed targets (see packTargets): kdLoss with `kd`, or plain
 * cross-entropy when `kd` is null. Mean over the rows.
 */
export function packedKdLoss(
  packed: tf.Tensor,
  logits: tf.Tensor,
  kd: KdLossOptions | null,
): tf.Scalar {
  return tf.tidy(() => {
    const cols = packed.shape[1]!;
    const labels = tf.cast(tf.squeeze(tf.slice(packed, [0, 0], [-1, 1]), [1]), "int32");
    const teacher = cols > 1 ? tf.slice(packed, [0, 1], [-1, cols - 1]) : null;
    if (kd && !teacher) throw new Error("packedKdLoss: KD options given but no teacher logits");
    return kdLoss(tf, labels, logits, kd ? teacher : null, kd ?? { lambda: 1, T: 1 });
  });
}
