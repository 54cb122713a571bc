import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues } from "../testing";

beforeAll(initWasmForTests);

describe("Identity / same-dtype Cast on wasm share the buffer", () => {
  it("values, dtype and shape kept; disposing either side keeps the other alive", () => {
    const x = tf.tensor2d(randomValues(12, 3), [3, 4]);
    const want = Array.from(x.dataSync());
    const a = tf.clone(x);
    const b = tf.cast(x, "float32");
    const c = tf.cast(tf.tensor1d([1, 0, 3], "int32"), "float32");
    expect(Array.from(c.dataSync())).toEqual([1, 0, 3]);
    expect(c.dtype).toBe("float32");
    x.dispose();
    expect(Array.from(a.dataSync())).toEqual(want);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual(want);
    expect(b.shape).toEqual([3, 4]);
    const before = tf.memory().numBytes;
    b.dispose();
    expect(tf.memory().numBytes).toBeLessThan(before);
    c.dispose();
  });

  it("a variable assigned a clone and the clone disposed keeps its value", () => {
    const v = tf.variable(tf.zeros([4]));
    const t = tf.tensor1d([1, 2, 3, 4]);
    v.assign(tf.clone(t));
    t.dispose();
    expect(Array.from(v.dataSync())).toEqual([1, 2, 3, 4]);
    v.dispose();
  });
});
