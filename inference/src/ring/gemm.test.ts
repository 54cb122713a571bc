import { describe, expect, it } from "vitest";
import { MOD, randomU32 } from "../testing/ring-values";
import {
  gemmWasmBytes,
  matmulU32,
  matmulU32Js,
  matmulU32Kernel,
  matmulU32Naive,
  matmulU32Wasm,
  wasmSimdAvailable,
} from "./gemm";

function matmulBigInt(a: Uint32Array, b: Uint32Array, m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let acc = 0n;
      for (let t = 0; t < k; t++) acc += BigInt(a[i * k + t]) * BigInt(b[t * n + j]);
      out.push(Number(acc % MOD));
    }
  return out;
}

// Shapes hit every path: 8-row blocks, the 4-row and 1-row tails (m % 8),
// the depth tail (k % 4), several depth blocks (k > 256), several column
// blocks (n > 512), matrix-vector (m = 1), and empty dimensions.
const SMALL: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 4],
  [8, 4, 8],
  [9, 7, 3],
  [13, 6, 5],
  [15, 9, 2],
  [16, 16, 16],
  [1, 33, 7],
  [4, 3, 1],
];
const LARGE: [number, number, number][] = [
  [17, 300, 33],
  [12, 517, 9],
  [9, 11, 600],
  [21, 263, 1030],
];

describe("matmulU32Naive", () => {
  it("equals BigInt arithmetic mod 2^32 on random and edge values", () => {
    SMALL.forEach(([m, k, n], s) => {
      const a = randomU32(m * k, 10 + s);
      const b = randomU32(k * n, 50 + s);
      expect(Array.from(matmulU32Naive(a, b, m, k, n))).toEqual(matmulBigInt(a, b, m, k, n));
    });
  });
});

const KERNELS = { matmulU32, matmulU32Js, matmulU32Wasm } as const;

describe("WebAssembly SIMD kernel", () => {
  it("is available on Node 20+ and is the default", () => {
    expect(wasmSimdAvailable()).toBe(true);
    expect(matmulU32Kernel()).toBe("wasm-simd");
  });
  it("assembles to a valid, small module", () => {
    const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } })
      .WebAssembly;
    for (const rows of [1, 2, 4]) {
      const bytes = gemmWasmBytes(rows);
      expect(wasm.validate(bytes)).toBe(true);
      expect(bytes.length).toBeLessThan(2000);
    }
  });
  it("zeroes its padding after a larger call left data in memory", () => {
    const big = [37, 51, 29] as const;
    const a1 = randomU32(big[0] * big[1], 5);
    const b1 = randomU32(big[1] * big[2], 6);
    matmulU32Wasm(a1, b1, ...big);
    for (const [m, k, n] of [
      [6, 5, 7],
      [2, 3, 3],
      [5, 9, 1],
    ] as const) {
      const a = randomU32(m * k, m + 40);
      const b = randomU32(k * n, n + 41);
      expect(Array.from(matmulU32Wasm(a, b, m, k, n))).toEqual(matmulBigInt(a, b, m, k, n));
    }
  });
});

for (const [name, kernel] of Object.entries(KERNELS)) {
  describe(name, () => {
    for (const [m, k, n] of SMALL) {
      it(`equals BigInt arithmetic: ${m}x${k} . ${k}x${n}`, () => {
        const a = randomU32(m * k, m * 1000 + k);
        const b = randomU32(k * n, n * 1000 + k + 7);
        expect(Array.from(kernel(a, b, m, k, n))).toEqual(matmulBigInt(a, b, m, k, n));
      });
    }
    for (const [m, k, n] of LARGE) {
      it(`equals the naive loop across blocks and tails: ${m}x${k} . ${k}x${n}`, () => {
        const a = randomU32(m * k, m + k);
        const b = randomU32(k * n, n + k + 1);
        expect(kernel(a, b, m, k, n)).toEqual(matmulU32Naive(a, b, m, k, n));
      });
    }
  });
}

for (const [name, kernel] of Object.entries(KERNELS)) {
  describe(`${name}: edge cases`, () => {
    it("all (2^32 - 1) inputs: (-1)(-1) summed k times = k", () => {
      const m = 11;
      const k = 301;
      const n = 5;
      const c = kernel(
        new Uint32Array(m * k).fill(0xffffffff),
        new Uint32Array(k * n).fill(0xffffffff),
        m,
        k,
        n,
      );
      expect(Array.from(c)).toEqual(new Array(m * n).fill(k));
    });
    it("2^31 . 2^31 wraps to 0 and 2^31 . 1 stays 2^31", () => {
      const a = new Uint32Array([0x80000000, 0x80000000]);
      expect(Array.from(kernel(a, new Uint32Array([0x80000000, 0]), 1, 2, 1))).toEqual([0]);
      expect(Array.from(kernel(a, new Uint32Array([1, 0]), 1, 2, 1))).toEqual([0x80000000]);
    });
    it("handles empty dimensions (k = 0 gives zeros)", () => {
      expect(Array.from(kernel(new Uint32Array(0), new Uint32Array(0), 2, 0, 3))).toEqual([
        0, 0, 0, 0, 0, 0,
      ]);
      expect(kernel(new Uint32Array(0), new Uint32Array(12), 0, 4, 3).length).toBe(0);
      expect(kernel(new Uint32Array(8), new Uint32Array(0), 2, 4, 0).length).toBe(0);
    });
    it("overwrites a dirty out buffer given as a subarray and returns it", () => {
      const m = 10;
      const k = 6;
      const n = 7;
      const a = randomU32(m * k, 1);
      const b = randomU32(k * n, 2);
      const backing = new Uint32Array(5 + m * n + 3).fill(0xdeadbeef);
      const out = backing.subarray(5, 5 + m * n);
      expect(kernel(a, b, m, k, n, out)).toBe(out);
      expect(Array.from(out)).toEqual(matmulBigInt(a, b, m, k, n));
      expect(backing[4]).toBe(0xdeadbeef);
      expect(backing[5 + m * n]).toBe(0xdeadbeef);
    });
    it("reads inputs given as subarrays at an offset", () => {
      const m = 9;
      const k = 5;
      const n = 4;
      const big = randomU32(3 + m * k + k * n, 3);
      const a = big.subarray(3, 3 + m * k);
      const b = big.subarray(3 + m * k);
      expect(Array.from(kernel(a, b, m, k, n))).toEqual(matmulBigInt(a, b, m, k, n));
    });
    it("rejects short buffers, bad dimensions and aliasing with a clear message", () => {
      expect(() => kernel(new Uint32Array(5), new Uint32Array(6), 2, 3, 2)).toThrow(
        /a has 5 elements, 2x3 needs 6/,
      );
      expect(() => kernel(new Uint32Array(6), new Uint32Array(5), 2, 3, 2)).toThrow(/b has 5/);
      expect(() =>
        kernel(new Uint32Array(6), new Uint32Array(6), 2, 3, 2, new Uint32Array(3)),
      ).toThrow(/out has 3/);
      expect(() => kernel(new Uint32Array(6), new Uint32Array(6), 2.5, 3, 2)).toThrow(/m must be/);
      const buf = new Uint32Array(16);
      expect(() =>
        kernel(buf.subarray(0, 4), buf.subarray(4, 8), 2, 2, 2, buf.subarray(2, 6)),
      ).toThrow(/overlap/);
    });
  });
}
