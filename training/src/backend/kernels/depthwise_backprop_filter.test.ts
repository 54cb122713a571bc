import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues, relError } from "../testing";
import { depthwiseFilterGradByTaps, depthwiseFilterGradMath } from "./depthwise_backprop_filter";
import { geometry } from "./patches";
import { asWasm } from "./util";

beforeAll(initWasmForTests);

type Pad = "same" | "valid" | number;

describe("depthwise filter gradient: tap-by-tap (wasm ops) equals the direct loop", () => {
  // [n, h, w, c, k, dilation, pad]
  const cases: Array<[number, number, number, number, number, number, Pad]> = [
    [2, 8, 8, 3, 3, 1, "same"],
    [3, 7, 9, 5, 3, 1, "valid"],
    [2, 9, 6, 4, 5, 1, "same"],
    [1, 6, 7, 2, 2, 1, "same"],
    [2, 9, 9, 3, 3, 2, "same"],
    [2, 10, 8, 3, 3, 2, "valid"],
    [2, 6, 6, 4, 1, 1, "valid"],
    [2, 8, 8, 3, 3, 1, 2], // explicit padding 2 (output larger than input)
    [64, 6, 6, 8, 3, 1, "same"], // many rows: column sums split into two GEMMs
  ];
  for (const [n, h, w, c, k, dil, pad] of cases)
    it(`${n}x${h}x${w}x${c} k${k} dilation ${dil} pad ${pad}`, () => {
      const x = tf.tensor4d(randomValues(n * h * w * c, h * 31 + k), [n, h, w, c]);
      const info = tf.backend_util.computeConv2DInfo(
        [n, h, w, c],
        [k, k, c, 1],
        1,
        dil,
        pad,
        undefined,
        true,
      );
      const g = geometry(info);
      const dy = tf.tensor4d(randomValues(n * g.outH * g.outW * c, w * 17 + c), [
        n,
        g.outH,
        g.outW,
        c,
      ]);
      const want = new Float32Array(k * k * c);
      depthwiseFilterGradMath(
        x.dataSync() as Float32Array,
        dy.dataSync() as Float32Array,
        g,
        1,
        want,
      );
      const got = depthwiseFilterGradByTaps(asWasm(tf.backend()), x, dy, g);
      expect(got.shape).toEqual([k, k, c, 1]);
      expect(relError(got.dataSync(), want)).toBeLessThan(1e-5);
      tf.dispose([x, dy, got]);
    });
});
