import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { ConstantPad2D, SignSTE, samePadding, signApprox, signForward, signSTE } from "./index";

describe("signSTE", () => {
  it("maps x >= 0 to +1 and x < 0 to -1 (sign(0) = +1, unlike tf.sign)", () => {
    const x = tf.tensor1d([-2, -1, -1e-7, 0, -0, 1e-7, 0.5, 1, 3]);
    expect(Array.from(signSTE(x).dataSync())).toEqual([-1, -1, -1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(signForward(x).dataSync())).toEqual([-1, -1, -1, 1, 1, 1, 1, 1, 1]);
  });

  it("passes the gradient where |x| <= 1 and blocks it elsewhere", () => {
    const xs = [-3, -1.0001, -1, -0.5, 0, 0.25, 1, 1.0001, 5];
    const x = tf.tensor1d(xs);
    const dy = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const g = tf.grad((t: tf.Tensor) => signSTE(t))(x, dy);
    const expected = xs.map((v, i) => (Math.abs(v) <= 1 ? i + 1 : 0));
    expect(Array.from(g.dataSync())).toEqual(expected);
  });

  it("random inputs: forward and gradient match the definition", () => {
    const x = tf.randomNormal([64, 5], 0, 1.5, "float32", 7);
    const xs = x.dataSync();
    const y = signSTE(x).dataSync();
    const g = tf
      .grad((t: tf.Tensor) => tf.sum(signSTE(t)))(x)
      .dataSync();
    for (let i = 0; i < xs.length; i++) {
      expect(y[i]).toBe(xs[i] >= 0 ? 1 : -1);
      expect(g[i]).toBe(Math.abs(xs[i]) <= 1 ? 1 : 0);
    }
  });

  it("the SignSTE layer trains through the STE inside a model", () => {
    const input = tf.input({ shape: [3] });
    const out = new SignSTE({ name: "s" }).apply(input) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: out });
    const x = tf.tensor2d([[-2, 0.5, 0]]);
    expect(Array.from((m.predict(x) as tf.Tensor).dataSync())).toEqual([-1, 1, 1]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(m.apply(t) as tf.Tensor))(x);
    expect(Array.from(g.dataSync())).toEqual([0, 1, 1]);
  });
});

describe("signApprox (ApproxSign's gradient)", () => {
  it("forward is the Sign; gradient is dy * max(0, 2 - 2|x|) on edge and random inputs", () => {
    const xs = [-3, -1.0001, -1, -0.75, -0.5, 0, 0.25, 0.5, 1, 1.0001, 5];
    const x = tf.tensor1d(xs);
    expect(Array.from(signApprox(x).dataSync())).toEqual(Array.from(signSTE(x).dataSync()));
    const dy = tf.tensor1d(xs.map((_, i) => i + 1));
    const g = tf
      .grad((t: tf.Tensor) => signApprox(t))(x, dy)
      .dataSync();
    xs.forEach((v, i) => {
      expect(g[i]).toBeCloseTo((i + 1) * Math.max(0, 2 - 2 * Math.abs(v)), 5);
    });
    expect(g[5]).toBe(2 * 6); // peak at 0
    expect(g[2]).toBe(0); // 0 at |x| = 1, where the STE passes dy
    const r = tf.randomNormal([64, 5], 0, 1.5, "float32", 8);
    const rs = r.dataSync();
    const rg = tf
      .grad((t: tf.Tensor) => tf.sum(signApprox(t)))(r)
      .dataSync();
    for (let i = 0; i < rs.length; i++)
      expect(rg[i]).toBeCloseTo(Math.max(0, 2 - 2 * Math.abs(rs[i])), 5);
  });

  it("the layer's signGrad chooses the backward pass, is saved only when not ste, and round-trips", async () => {
    const input = tf.input({ shape: [3] });
    const layer = new SignSTE({ name: "s", signGrad: "approx" });
    const m = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    const x = tf.tensor2d([[-2, 0.5, 0]]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(m.apply(t) as tf.Tensor))(x);
    expect(Array.from(g.dataSync())).toEqual([0, 1, 2]);
    expect(layer.getConfig().signGrad).toBe("approx");
    expect(new SignSTE({ name: "d" }).getConfig().signGrad).toBeUndefined();
    // a saved model round-trips through its JSON topology (as checkpoints do)
    const back = await tf.models.modelFromJSON({
      modelTopology: m.toJSON(null, false) as tf.io.ModelJSON["modelTopology"],
    });
    expect((back.layers[1] as SignSTE).signGrad).toBe("approx");
    const plain = tf.model({
      inputs: input,
      outputs: new SignSTE({ name: "d" }).apply(input) as tf.SymbolicTensor,
    });
    const back2 = await tf.models.modelFromJSON({
      modelTopology: plain.toJSON(null, false) as tf.io.ModelJSON["modelTopology"],
    });
    expect((back2.layers[1] as SignSTE).signGrad).toBe("ste");
    expect(() => new SignSTE({ signGrad: "tanh" as "ste" })).toThrow(/unknown signGrad "tanh"/);
  });
});

describe("samePadding", () => {
  it("follows TensorFlow's SAME rule (extra at the end)", () => {
    expect(samePadding(32, 3, 1)).toEqual([1, 1]);
    expect(samePadding(28, 5, 2)).toEqual([1, 2]);
    expect(samePadding(27, 5, 2)).toEqual([2, 2]);
    expect(samePadding(8, 1, 1)).toEqual([0, 0]);
    expect(samePadding(4, 2, 2)).toEqual([0, 0]);
  });

  it("agrees with tfjs's own 'same' convolution", () => {
    for (const [size, k, s] of [
      [7, 3, 2],
      [8, 3, 2],
      [28, 5, 2],
      [9, 4, 1],
    ]) {
      const x = tf.randomNormal([1, size, size, 2], 0, 1, "float32", size);
      const w = tf.randomNormal([k, k, 2, 3], 0, 1, "float32", k);
      const same = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, "same");
      const [t, b] = samePadding(size, k, s);
      const padded = tf.pad(x, [
        [0, 0],
        [t, b],
        [t, b],
        [0, 0],
      ]);
      const valid = tf.conv2d(padded as tf.Tensor4D, w as tf.Tensor4D, s, "valid");
      expect(valid.shape).toEqual(same.shape);
      const d = tf.max(tf.abs(tf.sub(same, valid))).dataSync()[0];
      expect(d).toBeLessThan(1e-5);
    }
  });
});

describe("ConstantPad2D", () => {
  it("pads H and W with the given value", () => {
    const layer = new ConstantPad2D({
      padding: [
        [1, 0],
        [0, 2],
      ],
      value: -1,
    });
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 3, 4, 1]);
    expect(Array.from(y.dataSync())).toEqual([-1, -1, -1, -1, 1, 2, -1, -1, 3, 4, -1, -1]);
    expect(layer.computeOutputShape([null, 2, 2, 1])).toEqual([null, 3, 4, 1]);
  });

  it("rejects bad padding", () => {
    expect(
      () =>
        new ConstantPad2D({
          padding: [
            [1, -1],
            [0, 0],
          ],
          value: 0,
        }),
    ).toThrow(/ConstantPad2D: padding/);
  });
});
