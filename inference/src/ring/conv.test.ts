import type { Padding } from "@cbnn/shared";
import { describe, expect, it } from "vitest";
import { MOD, randomU32 } from "../testing/ring-values";
import { conv2dU32, convOutShape, depthwise2dU32, im2colU32, pointwiseU32 } from "./conv";

/** Straight BigInt conv, written from the definition (independent of conv.ts). */
function conv2dRef(
  x: Uint32Array,
  batch: number,
  [h, w, c]: [number, number, number],
  wt: Uint32Array,
  [kh, kw]: [number, number],
  outC: number,
  [sh, sw]: [number, number],
  p: Padding,
  depthwise: boolean,
): { out: Uint32Array; oh: number; ow: number } {
  const oh = Math.floor((h + p.top + p.bottom - kh) / sh) + 1;
  const ow = Math.floor((w + p.left + p.right - kw) / sw) + 1;
  const oc = depthwise ? c : outC;
  const out = new Uint32Array(batch * oh * ow * oc);
  for (let b = 0; b < batch; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < oc; o++) {
          let acc = 0n;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * sh + ky - p.top;
              const ix = ox * sw + kx - p.left;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              if (depthwise) {
                acc +=
                  BigInt(x[((b * h + iy) * w + ix) * c + o]) * BigInt(wt[(ky * kw + kx) * c + o]);
              } else {
                for (let ci = 0; ci < c; ci++)
                  acc +=
                    BigInt(x[((b * h + iy) * w + ix) * c + ci]) *
                    BigInt(wt[((ky * kw + kx) * c + ci) * outC + o]);
              }
            }
          out[((b * oh + oy) * ow + ox) * oc + o] = Number(acc % MOD);
        }
  return { out, oh, ow };
}

interface Case {
  name: string;
  batch: number;
  inShape: [number, number, number];
  kernel: [number, number];
  outC: number;
  strides: [number, number];
  padding: Padding;
}

const P0: Padding = { top: 0, bottom: 0, left: 0, right: 0 };
const CASES: Case[] = [
  {
    name: "3x3 s1 same",
    batch: 2,
    inShape: [5, 6, 3],
    kernel: [3, 3],
    outC: 4,
    strides: [1, 1],
    padding: { top: 1, bottom: 1, left: 1, right: 1 },
  },
  {
    name: "5x5 s1 valid",
    batch: 3,
    inShape: [7, 7, 2],
    kernel: [5, 5],
    outC: 5,
    strides: [1, 1],
    padding: P0,
  },
  {
    name: "3x3 s2 asymmetric",
    batch: 2,
    inShape: [8, 7, 3],
    kernel: [3, 3],
    outC: 3,
    strides: [2, 2],
    padding: { top: 0, bottom: 1, left: 1, right: 0 },
  },
  {
    name: "5x3 s(2,1) odd pads",
    batch: 2,
    inShape: [9, 6, 2],
    kernel: [5, 3],
    outC: 7,
    strides: [2, 1],
    padding: { top: 2, bottom: 1, left: 0, right: 2 },
  },
  {
    name: "kernel larger than image with padding",
    batch: 2,
    inShape: [2, 3, 2],
    kernel: [3, 4],
    outC: 3,
    strides: [1, 1],
    padding: { top: 1, bottom: 2, left: 2, right: 1 },
  },
  {
    name: "1x1 s1 (pointwise path)",
    batch: 3,
    inShape: [4, 3, 5],
    kernel: [1, 1],
    outC: 6,
    strides: [1, 1],
    padding: P0,
  },
  {
    name: "1x1 s2 padded",
    batch: 2,
    inShape: [5, 5, 3],
    kernel: [1, 1],
    outC: 2,
    strides: [2, 2],
    padding: { top: 1, bottom: 0, left: 0, right: 1 },
  },
  {
    name: "wide channels s2",
    batch: 2,
    inShape: [6, 6, 17],
    kernel: [3, 3],
    outC: 33,
    strides: [2, 2],
    padding: { top: 1, bottom: 1, left: 1, right: 1 },
  },
];

describe("convOutShape", () => {
  it("matches floor((h + pads - k) / s) + 1", () => {
    expect(convOutShape([28, 28, 1], [5, 5], [1, 1], P0)).toEqual([24, 24]);
    expect(
      convOutShape([28, 28, 1], [5, 5], [2, 2], { top: 2, bottom: 2, left: 2, right: 2 }),
    ).toEqual([14, 14]);
    expect(
      convOutShape([8, 7, 3], [3, 3], [2, 2], { top: 0, bottom: 1, left: 1, right: 0 }),
    ).toEqual([4, 3]);
    expect(convOutShape([1, 1, 1], [1, 1], [3, 3], P0)).toEqual([1, 1]);
  });
  it("rejects bad input with a message naming the field", () => {
    expect(() => convOutShape([2, 2, 1], [3, 3], [1, 1], P0)).toThrow(/kernel 3x3 larger/);
    expect(() => convOutShape([4, 4, 1], [3, 3], [0, 1], P0)).toThrow(/strides\[0\]/);
    expect(() => convOutShape([4, 4, 1], [3, 3], [1, 1], { ...P0, left: -1 })).toThrow(
      /padding\.left/,
    );
    expect(() => convOutShape([4, 4.5, 1], [3, 3], [1, 1], P0)).toThrow(/inShape\[1\]/);
  });
});

describe("conv2dU32", () => {
  CASES.forEach((tc, i) => {
    it(`equals the BigInt reference: ${tc.name}`, () => {
      const [h, w, c] = tc.inShape;
      const x = randomU32(tc.batch * h * w * c, 100 + i);
      const wt = randomU32(tc.kernel[0] * tc.kernel[1] * c * tc.outC, 200 + i);
      const ref = conv2dRef(
        x,
        tc.batch,
        tc.inShape,
        wt,
        tc.kernel,
        tc.outC,
        tc.strides,
        tc.padding,
        false,
      );
      const got = conv2dU32(
        x,
        tc.batch,
        tc.inShape,
        wt,
        tc.kernel,
        tc.outC,
        tc.strides,
        tc.padding,
      );
      expect(got.length).toBe(tc.batch * ref.oh * ref.ow * tc.outC);
      expect(Array.from(got)).toEqual(Array.from(ref.out));
    });
  });
  it("equals the BigInt reference when im2col runs in several chunks", () => {
    // rowLen = 5*5*64 = 1600 -> 160 rows per chunk; 2*11*10 = 220 rows -> chunks of 160 + 60.
    const inShape: [number, number, number] = [14, 13, 64];
    const pad: Padding = { top: 1, bottom: 0, left: 1, right: 0 };
    const x = randomU32(2 * 14 * 13 * 64, 91);
    const wt = randomU32(5 * 5 * 64 * 3, 92);
    const ref = conv2dRef(x, 2, inShape, wt, [5, 5], 3, [1, 1], pad, false);
    expect(ref.oh * ref.ow * 2).toBe(2 * 11 * 10);
    const got = conv2dU32(x, 2, inShape, wt, [5, 5], 3, [1, 1], pad);
    expect(Array.from(got)).toEqual(Array.from(ref.out));
  });
  it("writes into a given out buffer and returns it", () => {
    const tc = CASES[0];
    const [h, w, c] = tc.inShape;
    const x = randomU32(tc.batch * h * w * c, 7);
    const wt = randomU32(9 * c * tc.outC, 8);
    const out = new Uint32Array(tc.batch * h * w * tc.outC).fill(0xdeadbeef);
    const got = conv2dU32(
      x,
      tc.batch,
      tc.inShape,
      wt,
      tc.kernel,
      tc.outC,
      tc.strides,
      tc.padding,
      out,
    );
    expect(got).toBe(out);
    const ref = conv2dRef(
      x,
      tc.batch,
      tc.inShape,
      wt,
      tc.kernel,
      tc.outC,
      tc.strides,
      tc.padding,
      false,
    );
    expect(Array.from(out)).toEqual(Array.from(ref.out));
  });
  it("all-max inputs wrap: (2^32-1)^2 * n mod 2^32", () => {
    const x = new Uint32Array(2 * 3 * 3 * 2).fill(0xffffffff);
    const wt = new Uint32Array(3 * 3 * 2 * 1).fill(0xffffffff);
    const got = conv2dU32(x, 2, [3, 3, 2], wt, [3, 3], 1, [1, 1], P0);
    // (-1)*(-1) summed 18 times = 18
    expect(Array.from(got)).toEqual([18, 18]);
  });
  it("rejects short buffers", () => {
    expect(() =>
      conv2dU32(new Uint32Array(10), 1, [4, 4, 1], new Uint32Array(9), [3, 3], 1, [1, 1], P0),
    ).toThrow(/x has 10 elements/);
    expect(() =>
      conv2dU32(new Uint32Array(16), 1, [4, 4, 1], new Uint32Array(8), [3, 3], 1, [1, 1], P0),
    ).toThrow(/weights/);
    expect(() =>
      conv2dU32(
        new Uint32Array(16),
        1,
        [4, 4, 1],
        new Uint32Array(9),
        [3, 3],
        1,
        [1, 1],
        P0,
        new Uint32Array(3),
      ),
    ).toThrow(/out/);
  });
});

describe("im2colU32", () => {
  it("zero-fills padded positions and copies the window in (ky, kx, c) order", () => {
    // 2x2 image, 1 channel, 3x3 kernel, pad 1 all round: centre window of output (0,0)
    const x = new Uint32Array([1, 2, 3, 4]);
    const cols = im2colU32(x, 1, [2, 2, 1], [3, 3], [1, 1], {
      top: 1,
      bottom: 1,
      left: 1,
      right: 1,
    });
    expect(cols.length).toBe(4 * 9);
    expect(Array.from(cols.subarray(0, 9))).toEqual([0, 0, 0, 0, 1, 2, 0, 3, 4]);
    expect(Array.from(cols.subarray(27, 36))).toEqual([1, 2, 0, 3, 4, 0, 0, 0, 0]);
  });
});

describe("depthwise2dU32", () => {
  CASES.forEach((tc, i) => {
    it(`equals the BigInt reference: ${tc.name}`, () => {
      const [h, w, c] = tc.inShape;
      const x = randomU32(tc.batch * h * w * c, 300 + i);
      const wt = randomU32(tc.kernel[0] * tc.kernel[1] * c, 400 + i);
      const ref = conv2dRef(
        x,
        tc.batch,
        tc.inShape,
        wt,
        tc.kernel,
        0,
        tc.strides,
        tc.padding,
        true,
      );
      const got = depthwise2dU32(x, tc.batch, tc.inShape, wt, tc.kernel, tc.strides, tc.padding);
      expect(got.length).toBe(tc.batch * ref.oh * ref.ow * c);
      expect(Array.from(got)).toEqual(Array.from(ref.out));
    });
  });
  it("rejects short weights", () => {
    expect(() =>
      depthwise2dU32(new Uint32Array(32), 1, [4, 4, 2], new Uint32Array(17), [3, 3], [1, 1], P0),
    ).toThrow(/depthwise2d: weights has 17/);
  });
});

describe("pointwiseU32", () => {
  it("equals a 1x1 BigInt conv", () => {
    const batch = 3;
    const inShape: [number, number, number] = [4, 5, 7];
    const outC = 9;
    const x = randomU32(batch * 4 * 5 * 7, 11);
    const wt = randomU32(7 * outC, 12);
    const ref = conv2dRef(x, batch, inShape, wt, [1, 1], outC, [1, 1], P0, false);
    expect(Array.from(pointwiseU32(x, batch, inShape, wt, outC))).toEqual(Array.from(ref.out));
  });
  it("rejects a non-integer outC", () => {
    expect(() => pointwiseU32(new Uint32Array(4), 1, [1, 1, 4], new Uint32Array(4), 0)).toThrow(
      /pointwise: outC/,
    );
  });
});
