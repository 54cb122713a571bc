import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmForTests, randomValues, relError, runOn, wasmVsCpu } from "../testing";
import {
  type ConvFilterMethod,
  setConvFilterMethod,
  setPatchBudget,
  useConvForm,
} from "./conv2d_backprop_filter";
import { geometry } from "./patches";
import { flipFilterMath } from "./util";

beforeAll(initWasmForTests);

type Pad = "same" | "valid";
const cases: Array<[number, number, number, number, number, number, Pad]> = [];
// [h, w, cin, cout/multiplier, k, stride, pad]
for (const stride of [1, 2])
  for (const pad of ["same", "valid"] as Pad[]) {
    cases.push([8, 8, 3, 4, 3, stride, pad]);
    cases.push([7, 9, 2, 5, 5, stride, pad]);
    cases.push([6, 5, 4, 3, 1, stride, pad]);
    cases.push([9, 6, 2, 2, 2, stride, pad]);
  }

function gradsOf(
  h: number,
  w: number,
  cin: number,
  co: number,
  k: number,
  stride: number,
  pad: Pad,
  depthwise: boolean,
  seed: number,
) {
  return () => {
    const x = tf.tensor4d(randomValues(2 * h * w * cin, seed), [2, h, w, cin]);
    const fShape: [number, number, number, number] = [k, k, cin, co];
    const f = tf.tensor4d(randomValues(k * k * cin * co, seed + 1), fShape);
    const conv = (a: tf.Tensor4D, b: tf.Tensor4D) =>
      depthwise ? tf.depthwiseConv2d(a, b, stride, pad) : tf.conv2d(a, b, stride, pad);
    const y = conv(x, f);
    const dy = tf.tensor(randomValues(y.size, seed + 2), y.shape);
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), dy)),
    )([x, f]);
    return [dx!, df!];
  };
}

for (const m of ["conv", "im2col"] as ConvFilterMethod[])
  describe(`Conv2DBackpropFilter forced to the ${m} form matches cpu`, () => {
    cases.forEach(([h, w, cin, co, k, s, pad], i) => {
      it(`${h}x${w}x${cin} -> ${co}, k${k} s${s} ${pad}`, async () => {
        const old = setConvFilterMethod(m);
        try {
          const err = await wasmVsCpu(gradsOf(h, w, cin, co, k, s, pad, false, 13 * i + 1));
          expect(err).toBeLessThan(1e-4);
        } finally {
          setConvFilterMethod(old);
        }
      });
    });
  });

describe("useConvForm picks the conv form for large stride-1 layers only", () => {
  const g = (h: number, c: number, k: number, s: number) =>
    geometry(tf.backend_util.computeConv2DInfo([64, h, h, c], [k, k, c, 32], s, 1, "same"));
  it("32x32x32 3x3 yes; 8x8, 3 channels, 1x1, stride 2 no", () => {
    expect(useConvForm(g(32, 32, 3, 1), "auto")).toBe(true);
    expect(useConvForm(g(16, 64, 3, 1), "auto")).toBe(true);
    expect(useConvForm(g(8, 96, 3, 1), "auto")).toBe(false);
    expect(useConvForm(g(32, 3, 3, 1), "auto")).toBe(false);
    expect(useConvForm(g(32, 32, 1, 1), "auto")).toBe(false);
    expect(useConvForm(g(32, 32, 3, 2), "auto")).toBe(false);
  });
});

describe("Conv2DBackpropInput / Conv2DBackpropFilter on wasm match cpu", () => {
  cases.forEach(([h, w, cin, co, k, s, pad], i) => {
    it(`${h}x${w}x${cin} -> ${co}, k${k} s${s} ${pad}`, async () => {
      expect(await wasmVsCpu(gradsOf(h, w, cin, co, k, s, pad, false, 10 * i))).toBeLessThan(1e-4);
    });
  });
  it("batch split into im2col chunks (1 and 2 images) sums correctly", async () => {
    for (const images of [1, 2]) {
      const old = setPatchBudget(images * 8 * 8 * 3 * 3 * 3);
      try {
        const err = await wasmVsCpu(gradsOf(8, 8, 3, 4, 3, 1, "same", false, 99));
        expect(err).toBeLessThan(1e-4);
      } finally {
        setPatchBudget(old);
      }
    }
  });
});

describe("DepthwiseConv2dNative backprops on wasm match cpu", () => {
  cases.forEach(([h, w, c, m0, k, s, pad], i) => {
    const m = (m0 % 2) + 1; // channel multiplier 1 or 2
    it(`${h}x${w}x${c} x${m}, k${k} s${s} ${pad}`, async () => {
      expect(await wasmVsCpu(gradsOf(h, w, c, m, k, s, pad, true, 7 * i + 3))).toBeLessThan(1e-4);
    });
  });
  it("dilation 2 (stride 1) equals dilation 1 with a zero-inserted filter", async () => {
    // cpu's depthwise backprop kernels ignore dilations, so the reference is the same
    // gradient through an explicitly dilated 5x5 filter at dilation 1.
    const x = () => tf.tensor4d(randomValues(2 * 9 * 9 * 3, 5), [2, 9, 9, 3]);
    const f = () => tf.tensor4d(randomValues(3 * 3 * 3 * 2, 6), [3, 3, 3, 2]);
    const dy = () => tf.tensor4d(randomValues(2 * 9 * 9 * 6, 7), [2, 9, 9, 6]);
    const run = (dil: number, filter: tf.Tensor4D) => {
      const common = { strides: 1, dilations: dil, pad: "same" };
      const dx = tf
        .engine()
        .runKernel(
          tf.DepthwiseConv2dNativeBackpropInput,
          { dy: dy(), filter },
          { ...common, inputShape: [2, 9, 9, 3] },
        ) as tf.Tensor;
      const df = tf
        .engine()
        .runKernel(
          tf.DepthwiseConv2dNativeBackpropFilter,
          { x: x(), dy: dy() },
          { ...common, filterShape: filter.shape },
        ) as tf.Tensor4D;
      return { dx, df };
    };
    const wasm = await runOn("wasm", () => {
      const r = run(2, f());
      return [r.dx, r.df];
    });
    const cpu = await runOn("cpu", () => {
      // 3x3 -> 5x5 with zeros between taps
      const f5 = tf
        .pad(f().reshape([3, 1, 3, 1, 3, 2]), [
          [0, 0],
          [0, 1],
          [0, 0],
          [0, 1],
          [0, 0],
          [0, 0],
        ])
        .reshape([6, 6, 3, 2])
        .slice([0, 0, 0, 0], [5, 5, 3, 2]) as tf.Tensor4D;
      const r = run(1, f5);
      return [r.dx, tf.stridedSlice(r.df, [0, 0, 0, 0], [5, 5, 3, 2], [2, 2, 1, 1])];
    });
    expect(relError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-4);
    expect(relError(wasm[1]!, cpu[1]!)).toBeLessThan(1e-4);
  });
});

describe("flipFilterMath", () => {
  it("equals reverse over (h, w), with and without swapping in/out channels (2x3x4x5)", () => {
    const shape: [number, number, number, number] = [2, 3, 4, 5];
    const f = randomValues(2 * 3 * 4 * 5, 77);
    const t = tf.tensor4d(f, shape);
    const rev = tf.reverse(t, [0, 1]);
    const plain = new Float32Array(f.length);
    flipFilterMath(f, shape, false, plain);
    expect(Array.from(plain)).toEqual(Array.from(rev.dataSync()));
    const swapped = new Float32Array(f.length);
    flipFilterMath(f, shape, true, swapped);
    expect(Array.from(swapped)).toEqual(Array.from(tf.transpose(rev, [0, 1, 3, 2]).dataSync()));
    tf.dispose([t, rev]);
  });
});
