/**
 * Knowledge-distillation loss, paper eq. (5):
 *
 *   L = lambda * H(y, q) + (1 - lambda) * H(p^T, q^T)
 *
 * with H(p, q) = -sum_i p_i log q_i (eq. 2), y the one-hot hard label, q the
 * student's softmax, p^T = softmax(teacherLogits / T) the teacher's soft labels
 * and q^T = softmax(studentLogits / T) the student's soft predictions (eq. 1).
 * The paper's prose swaps the names p and q in eq. (4); we follow eq. (5) and
 * the project's design: the target distribution (teacher) is H's first argument.
 * Both terms are averaged over the batch. `t2Scaling` multiplies the soft term
 * by T^2 (Hinton et al. 2015) so its gradients keep their size as T grows.
 */
import type * as tfjs from "@tensorflow/tfjs";

type TF = typeof tfjs;

export interface KdLossOptions {
  /** Weight of the hard-label term, in [0, 1]; 1 = plain cross-entropy. */
  lambda: number;
  /** Softmax temperature for the soft term, > 0. */
  T: number;
  /** Multiply the soft term by T^2 (Hinton's factor). Default false (the paper's eq. 5). */
  t2Scaling?: boolean;
}

/** Mean over the batch of H(target, softmax(logits)) for a target distribution. */
function crossEntropy(tf: TF, target: tfjs.Tensor, logits: tfjs.Tensor): tfjs.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits, -1)), -1))) as tfjs.Scalar;
}

/**
 * KD loss (eq. 5). `labels`: int class indices [B]; logits [B, classes].
 * `teacherLogits` null gives plain cross-entropy H(y, q).
 */
export function kdLoss(
  tf: TF,
  labels: tfjs.Tensor,
  studentLogits: tfjs.Tensor,
  teacherLogits: tfjs.Tensor | null,
  opts: KdLossOptions,
): tfjs.Scalar {
  const { lambda, T } = opts;
  if (!(lambda >= 0 && lambda <= 1))
    throw new Error(`kdLoss: lambda must be in [0, 1], got ${lambda}`);
  if (!(T > 0) || !Number.isFinite(T))
    throw new Error(`kdLoss: T must be a positive number, got ${T}`);
  if (studentLogits.rank !== 2) {
    throw new Error(`kdLoss: studentLogits must be [batch, classes], got [${studentLogits.shape}]`);
  }
  const [batch, classes] = studentLogits.shape as [number, number];
  if (labels.rank !== 1 || labels.shape[0] !== batch) {
    throw new Error(`kdLoss: labels must be [${batch}], got [${labels.shape}]`);
  }
  if (
    teacherLogits &&
    (teacherLogits.rank !== 2 ||
      teacherLogits.shape[0] !== batch ||
      teacherLogits.shape[1] !== classes)
  ) {
    throw new Error(
      `kdLoss: teacherLogits must be [${batch}, ${classes}], got [${teacherLogits.shape}]`,
    );
  }
  return tf.tidy(() => {
    const y = tf.oneHot(labels.dtype === "int32" ? labels : tf.cast(labels, "int32"), classes);
    const hard = crossEntropy(tf, y, studentLogits);
    if (!teacherLogits) return hard;
    const pT = tf.softmax(tf.div(teacherLogits, T), -1);
    let soft = crossEntropy(tf, pT, tf.div(studentLogits, T));
    if (opts.t2Scaling) soft = tf.mul(soft, T * T);
    return tf.add(tf.mul(hard, lambda), tf.mul(soft, 1 - lambda)) as tfjs.Scalar;
  });
}
