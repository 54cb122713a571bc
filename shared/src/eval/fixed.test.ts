import { describe, expect, it } from "vitest";
import { seededRandom } from "../export/random-model";
import { encodeWeights, sha256Hex } from "../model/io";
import type { Layer, ModelExport, Shape3 } from "../model/types";
import { accuracy, argmaxAgreement, argmaxRows, evaluateFixed, traceRanges } from "./fixed";

function exportOf(
  input: Shape3,
  classes: number,
  layers: Layer[],
  weights: Int32Array,
): ModelExport {
  return {
    format: "cbnn-export",
    version: 1,
    name: "hand-made",
    ringBits: 32,
    input: { shape: input, encoding: "uint8", dataset: "test" },
    classes: Array.from({ length: classes }, (_, k) => String(k)),
    layers,
    blob: {
      file: "weights.bin",
      bytes: weights.length * 4,
      sha256: sha256Hex(encodeWeights(weights)),
    },
    source: {
      checkpoint: "none",
      dataset: "test",
      normalisation: { mean: [0], std: [1] },
      createdAt: "2024-01-01T00:00:00Z",
    },
  };
}

const toI32 = (v: bigint) => Number(BigInt.asIntN(32, v));

function randInt32(r: () => number): number {
  return (Math.floor(r() * 2 ** 32) - 2 ** 31) | 0;
}

describe("evaluateFixed: ring arithmetic", () => {
  it("dense wraps mod 2^32 exactly like BigInt arithmetic, shift floors", () => {
    const r = seededRandom(7);
    const n = 12;
    const out = 5;
    const W = Int32Array.from({ length: n * out }, () => randInt32(r));
    const B = Int32Array.from({ length: out }, () => randInt32(r));
    W[0] = -(2 ** 31);
    W[1] = 2 ** 31 - 1;
    const weights = new Int32Array([...W, ...B]);
    for (const shift of [0, 3]) {
      const model = exportOf(
        [2, 2, 3],
        out,
        [
          {
            kind: "dense",
            name: "fc",
            inShape: [2, 2, 3],
            outShape: [1, 1, out],
            inDomain: "int",
            outDomain: "int",
            outFracBits: 10 - shift,
            weights: { offset: 0, length: n * out, shape: [n, out], fracBits: 10 },
            bias: { offset: n * out, length: out, shape: [out], fracBits: 10 },
            outShift: shift,
          },
        ],
        weights,
      );
      const count = 20;
      const images = Uint8Array.from({ length: count * n }, () => Math.floor(r() * 256));
      images.fill(255, 0, n); // all-max image
      images.fill(0, n, 2 * n); // all-zero image
      const got = evaluateFixed(model, weights, images, count);
      for (let s = 0; s < count; s++) {
        for (let o = 0; o < out; o++) {
          let acc = BigInt(B[o]);
          for (let k = 0; k < n; k++) acc += BigInt(W[k * out + o]) * BigInt(images[s * n + k]);
          const wrapped = BigInt.asIntN(32, acc);
          const want = toI32(wrapped >> BigInt(shift)); // BigInt >> floors
          expect(got[s * out + o]).toBe(want);
        }
      }
    }
  });

  it("conv2d with padding and stride 2 matches a BigInt reference", () => {
    const r = seededRandom(11);
    const [h, w, c, oc, k] = [5, 6, 2, 3, 3];
    const pad = { top: 1, bottom: 1, left: 0, right: 1 };
    const oh = Math.floor((h + 2 - k) / 2) + 1;
    const ow = Math.floor((w + 1 - k) / 2) + 1;
    const W = Int32Array.from({ length: k * k * c * oc }, () => randInt32(r));
    const B = Int32Array.from({ length: oh * ow * oc }, () => randInt32(r));
    const weights = new Int32Array([...W, ...B]);
    const conv: Layer = {
      kind: "conv2d",
      name: "conv",
      inShape: [h, w, c],
      outShape: [oh, ow, oc],
      inDomain: "int",
      outDomain: "int",
      outFracBits: 0,
      weights: { offset: 0, length: W.length, shape: [k, k, c, oc], fracBits: 0 },
      bias: { offset: W.length, length: B.length, shape: [oh, ow, oc], fracBits: 0 },
      outShift: 0,
      kernel: [k, k],
      strides: [2, 2],
      padding: pad,
    };
    const n = oh * ow * oc;
    const I = Int32Array.from({ length: n * n }, (_, q) => (q % (n + 1) === 0 ? 1 : 0));
    const dense: Layer = {
      kind: "dense",
      name: "id",
      inShape: [oh, ow, oc],
      outShape: [1, 1, n],
      inDomain: "int",
      outDomain: "int",
      outFracBits: 0,
      weights: { offset: weights.length, length: n * n, shape: [n, n], fracBits: 0 },
      bias: { offset: weights.length + n * n, length: n, shape: [n], fracBits: 0 },
      outShift: 0,
    };
    const all = new Int32Array([...weights, ...I, ...new Int32Array(n)]);
    const model = exportOf([h, w, c], n, [conv, dense], all);
    const images = Uint8Array.from({ length: 3 * h * w * c }, () => Math.floor(r() * 256));
    const got = evaluateFixed(model, all, images, 3);
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          for (let o = 0; o < oc; o++) {
            let acc = BigInt(B[(i * ow + j) * oc + o]);
            for (let a = 0; a < k; a++) {
              for (let b = 0; b < k; b++) {
                const ii = i * 2 + a - pad.top;
                const jj = j * 2 + b - pad.left;
                if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
                for (let ci = 0; ci < c; ci++) {
                  const x = images[s * h * w * c + (ii * w + jj) * c + ci];
                  acc += BigInt(W[((a * k + b) * c + ci) * oc + o]) * BigInt(x);
                }
              }
            }
            expect(got[s * n + (i * ow + j) * oc + o]).toBe(toI32(acc));
          }
        }
      }
    }
  });

  it("sign maps 0 to bit 1 and -1, -2^31 to 0; maxpool or / sum-sign / max", () => {
    // input 2x2x1 pixels p; dense-free path: depthwise 1x1 with weight 1 and bias -t
    const bias = [-5, 0, 0];
    const layers = (mode: "or" | "sum-sign" | "max", withSign: boolean): Layer[] => {
      const ls: Layer[] = [
        {
          kind: "depthwise2d",
          name: "dw",
          inShape: [2, 2, 1],
          outShape: [2, 2, 1],
          inDomain: "int",
          outDomain: "int",
          outFracBits: 0,
          weights: { offset: 0, length: 1, shape: [1, 1, 1, 1], fracBits: 0 },
          bias: { offset: 1, length: 1, shape: [1], fracBits: 0 },
          outShift: 0,
          kernel: [1, 1],
          strides: [1, 1],
          padding: { top: 0, bottom: 0, left: 0, right: 0 },
        },
      ];
      if (withSign) {
        ls.push({
          kind: "sign",
          name: "sign",
          inShape: [2, 2, 1],
          outShape: [2, 2, 1],
          inDomain: "int",
          outDomain: "bits",
          outFracBits: 0,
        });
      }
      ls.push({
        kind: "maxpool",
        name: "pool",
        inShape: [2, 2, 1],
        outShape: [1, 1, 1],
        inDomain: withSign ? "bits" : "int",
        outDomain: withSign ? "bits" : "int",
        outFracBits: 0,
        pool: [2, 2],
        strides: [2, 2],
        mode,
      });
      ls.push({
        kind: "dense",
        name: "out",
        inShape: [1, 1, 1],
        outShape: [1, 1, 1],
        inDomain: withSign ? "bits" : "int",
        outDomain: "int",
        outFracBits: 0,
        weights: { offset: 0, length: 1, shape: [1, 1], fracBits: 0 },
        bias: { offset: 2, length: 1, shape: [1], fracBits: 0 },
        outShift: 0,
      });
      return ls;
    };
    const weights = new Int32Array([1, ...bias]);
    weights[1] = -5;
    const imgs = new Uint8Array([0, 1, 2, 3, 5, 0, 0, 0, 4, 4, 4, 4, 9, 7, 200, 6]);
    for (const mode of ["or", "sum-sign"] as const) {
      const m = exportOf([2, 2, 1], 1, layers(mode, true), weights);
      expect(Array.from(evaluateFixed(m, weights, imgs, 4))).toEqual([0, 1, 0, 1]);
    }
    const mx = exportOf([2, 2, 1], 1, layers("max", false), weights);
    expect(Array.from(evaluateFixed(mx, weights, imgs, 4))).toEqual([-2, 0, -1, 195]);
    // -2^31 bias makes the sign input the most negative int32
    const w2 = new Int32Array([1, -(2 ** 31), 0]);
    const m2 = exportOf([2, 2, 1], 1, layers("or", true), w2);
    expect(Array.from(evaluateFixed(m2, w2, new Uint8Array(4), 1))).toEqual([0]);
    const ranges = traceRanges(m2, w2, new Uint8Array(4), 1);
    expect(ranges[0].maxAbs).toBe(2 ** 31);
    expect(ranges[0].headroomBits).toBeLessThan(0);
  });

  it("rejects too few image bytes", () => {
    const weights = new Int32Array([1, 0]);
    const m = exportOf(
      [1, 1, 1],
      1,
      [
        {
          kind: "dense",
          name: "fc",
          inShape: [1, 1, 1],
          outShape: [1, 1, 1],
          inDomain: "int",
          outDomain: "int",
          outFracBits: 0,
          weights: { offset: 0, length: 1, shape: [1, 1], fracBits: 0 },
          bias: { offset: 1, length: 1, shape: [1], fracBits: 0 },
          outShift: 0,
        },
      ],
      weights,
    );
    expect(() => evaluateFixed(m, weights, new Uint8Array(1), 2)).toThrow(/images/);
  });
});

describe("argmax helpers", () => {
  it("argmaxRows, accuracy, agreement", () => {
    const a = [1, 5, 2, 9, 0, 0, -1, -3, -2];
    expect(Array.from(argmaxRows(a, 3))).toEqual([1, 0, 0]);
    expect(accuracy([1, 0, 0], [1, 2, 0])).toBeCloseTo(2 / 3);
    expect(argmaxAgreement(a, [0, 1, 0, 1, 0, 0, 0, 0, 1], 3)).toBeCloseTo(2 / 3);
    expect(() => accuracy([1], [1, 2])).toThrow(/labels/);
  });
});
