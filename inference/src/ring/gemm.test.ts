import { describe, expect, it } from "vitest";
import { matmulU32 } from "./gemm";

describe("matmulU32", () => {
  it("wraps mod 2^32 like BigInt arithmetic", () => {
    const m = 3,
      k = 5,
      n = 4;
    const a = new Uint32Array(m * k).map((_, i) => (i * 2654435761) >>> 0);
    const b = new Uint32Array(k * n).map((_, i) => (i * 40503 + 0xffffffff) >>> 0);
    const c = matmulU32(a, b, m, k, n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0n;
        for (let t = 0; t < k; t++) acc += BigInt(a[i * k + t]) * BigInt(b[t * n + j]);
        expect(c[i * n + j]).toBe(Number(acc % 2n ** 32n));
      }
  });
});
