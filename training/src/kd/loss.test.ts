import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { kdLoss } from "./loss";

const ln = Math.log;

// Sample 0: label 0, student [0, 2 ln 2], teacher [2 ln 3, 0], T = 2:
//   q = [1/5, 4/5] -> H(y, q) = ln 5
//   p^T = softmax([ln 3, 0]) = [3/4, 1/4], q^T = softmax([0, ln 2]) = [1/3, 2/3]
//   H(p^T, q^T) = -(3/4 ln 1/3 + 1/4 ln 2/3) = ln 3 - ln 2 / 4
// Sample 1: label 1, student [0, 0], teacher [0, 0]: both terms ln 2.
const labels = () => tf.tensor1d([0, 1], "int32");
const student = () =>
  tf.tensor2d([
    [0, 2 * ln(2)],
    [0, 0],
  ]);
const teacher = () =>
  tf.tensor2d([
    [2 * ln(3), 0],
    [0, 0],
  ]);
const HARD = (ln(5) + ln(2)) / 2;
const SOFT = (ln(3) - ln(2) / 4 + ln(2)) / 2;

function value(s: tf.Scalar): number {
  return s.dataSync()[0];
}

describe("kdLoss (paper eq. 5)", () => {
  it("matches hand-computed values without T^2 scaling", () => {
    const l = kdLoss(tf, labels(), student(), teacher(), { lambda: 0.25, T: 2 });
    expect(value(l)).toBeCloseTo(0.25 * HARD + 0.75 * SOFT, 5);
  });

  it("matches hand-computed values with T^2 scaling", () => {
    const l = kdLoss(tf, labels(), student(), teacher(), { lambda: 0.25, T: 2, t2Scaling: true });
    expect(value(l)).toBeCloseTo(0.25 * HARD + 0.75 * 4 * SOFT, 5);
  });

  it("lambda = 1 is plain cross-entropy; lambda = 0 is the soft term only", () => {
    expect(value(kdLoss(tf, labels(), student(), teacher(), { lambda: 1, T: 2 }))).toBeCloseTo(
      HARD,
      5,
    );
    expect(value(kdLoss(tf, labels(), student(), null, { lambda: 0.3, T: 2 }))).toBeCloseTo(
      HARD,
      5,
    );
    expect(value(kdLoss(tf, labels(), student(), teacher(), { lambda: 0, T: 2 }))).toBeCloseTo(
      SOFT,
      5,
    );
    expect(
      value(kdLoss(tf, labels(), student(), teacher(), { lambda: 0, T: 2, t2Scaling: true })),
    ).toBeCloseTo(4 * SOFT, 5);
  });

  it("agrees with a plain-JS reference on random inputs, and its gradient is (q^T - p^T)/(T B) for lambda 0", () => {
    const B = 5;
    const C = 7;
    const T = 3.5;
    const s = tf.randomNormal([B, C], 0, 3, "float32", 1);
    const t = tf.randomNormal([B, C], 0, 3, "float32", 2);
    const y = tf.tensor1d([0, 6, 3, 3, 1], "int32");
    const S = s.arraySync() as number[][];
    const Tl = t.arraySync() as number[][];
    const Y = y.arraySync() as number[];
    const softmax = (v: number[], temp: number) => {
      const m = Math.max(...v);
      const e = v.map((z) => Math.exp((z - m) / temp));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((z) => z / sum);
    };
    let hard = 0;
    let soft = 0;
    for (let b = 0; b < B; b++) {
      hard -= ln(softmax(S[b], 1)[Y[b]]) / B;
      const p = softmax(Tl[b], T);
      const q = softmax(S[b], T);
      soft -= p.reduce((a, pi, i) => a + pi * ln(q[i]), 0) / B;
    }
    for (const lambda of [0, 0.1, 0.5, 1]) {
      const got = value(kdLoss(tf, y, s, t, { lambda, T, t2Scaling: true }));
      expect(got).toBeCloseTo(lambda * hard + (1 - lambda) * T * T * soft, 4);
    }
    const g = tf.grad((x: tf.Tensor) => kdLoss(tf, y, x, t, { lambda: 0, T }))(s);
    const G = g.arraySync() as number[][];
    for (let b = 0; b < B; b++) {
      const p = softmax(Tl[b], T);
      const q = softmax(S[b], T);
      for (let i = 0; i < C; i++) expect(G[b][i]).toBeCloseTo((q[i] - p[i]) / (T * B), 5);
    }
  });

  it("accepts float labels and rejects bad arguments", () => {
    const f = tf.tensor1d([0, 1], "float32");
    expect(value(kdLoss(tf, f, student(), null, { lambda: 1, T: 1 }))).toBeCloseTo(HARD, 5);
    expect(() => kdLoss(tf, labels(), student(), teacher(), { lambda: 1.5, T: 2 })).toThrow(
      /lambda must be in \[0, 1\]/,
    );
    expect(() => kdLoss(tf, labels(), student(), teacher(), { lambda: 0.5, T: 0 })).toThrow(
      /T must be a positive/,
    );
    expect(() =>
      kdLoss(tf, tf.tensor1d([0], "int32"), student(), null, { lambda: 1, T: 1 }),
    ).toThrow(/labels must be \[2\]/);
    expect(() => kdLoss(tf, labels(), student(), tf.zeros([2, 3]), { lambda: 0.5, T: 1 })).toThrow(
      /teacherLogits must be \[2, 2\]/,
    );
  });
});
