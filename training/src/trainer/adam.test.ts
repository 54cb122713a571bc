import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Adam } from "./adam";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe("Adam weight decay (AdamW)", () => {
  it("with zero gradients, shrinks decayed variables by lr * weightDecay and leaves the rest", () => {
    const a = tf.variable(tf.tensor1d([2, -4, 0.5]));
    const b = tf.variable(tf.tensor1d([3, -1]));
    const opt = new Adam([a, b], { weightDecay: 0.5, decay: [true, false] });
    opt.apply([tf.zerosLike(a), tf.zerosLike(b)], 0.1);
    // 1 - 0.1 * 0.5 = 0.95; the Adam step itself is 0 for a zero gradient
    expect(values(a)).toEqual(values(tf.tensor1d([2 * 0.95, -4 * 0.95, 0.5 * 0.95])));
    expect(values(b)).toEqual([3, -1]);
    opt.dispose();
  });

  it("adds the decay of the pre-step weights to the plain Adam step", () => {
    const init = [1.5, -0.25, 3];
    const g = [0.3, -2, 0.01];
    const plainVar = tf.variable(tf.tensor1d(init));
    const decayedVar = tf.variable(tf.tensor1d(init));
    const plain = new Adam([plainVar]);
    const decayed = new Adam([decayedVar], { weightDecay: 0.2 });
    const lr = 0.05;
    plain.apply([tf.tensor1d(g)], lr);
    decayed.apply([tf.tensor1d(g)], lr);
    const p = values(plainVar);
    const d = values(decayedVar);
    for (let i = 0; i < init.length; i++) {
      expect(d[i]).toBeCloseTo(p[i] - lr * 0.2 * init[i], 6);
      expect(d[i]).not.toBe(p[i]);
    }
    plain.dispose();
    decayed.dispose();
  });

  it("weight decay 0 is plain Adam, bit for bit", () => {
    const x = tf.variable(tf.tensor1d([0.7, -0.2]));
    const y = tf.variable(tf.tensor1d([0.7, -0.2]));
    const a = new Adam([x]);
    const b = new Adam([y], { weightDecay: 0, decay: [true] });
    for (let s = 0; s < 3; s++) {
      a.apply([tf.tensor1d([0.1 * s, -0.3])], 0.01);
      b.apply([tf.tensor1d([0.1 * s, -0.3])], 0.01);
    }
    expect(values(y)).toEqual(values(x));
  });

  it("rejects a negative decay and a mask of the wrong length", () => {
    const x = tf.variable(tf.tensor1d([1]));
    expect(() => new Adam([x], { weightDecay: -1 })).toThrow(/weight decay/);
    expect(() => new Adam([x], { weightDecay: 0.1, decay: [true, false] })).toThrow(/mask/);
  });
});
