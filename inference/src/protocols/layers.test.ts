import { describe, expect, it } from "vitest";
import { packBits, unpackBits, wordsFor } from "../ring/bits";
import { matmulU32 } from "../ring/gemm";
import { makeParties, openA, openB, randomWithEdges, runCosted } from "../testing/harness";
import { relu, signArith } from "./activation";
import { shareInput, shareInputB } from "./input";
import { linear } from "./linear";
import { maxpoolMax, maxpoolOr, maxpoolSumSign, type PoolGeometry, poolSlots } from "./maxpool";
import { cbnnMsb } from "./msb-cbnn";
import { secureMsb, secureMsbCost, secureMsbFor } from "./msb-secure";
import { truncate, truncateExact } from "./truncate";

describe("linear (Alg. 2)", () => {
  it("dense on shared weights equals plaintext, 1 round, 4 bytes per output per party", async () => {
    const { ctxs } = makeParties();
    const [b, k, m] = [3, 50, 7];
    const x = randomWithEdges(b * k);
    const w = randomWithEdges(k * m).reverse();
    const bias = randomWithEdges(m);
    const sx = await Promise.all(ctxs.map((c) => shareInput(c, 0, c.id === 0 ? x : null, b * k)));
    const sw = await Promise.all(ctxs.map((c) => shareInput(c, 1, c.id === 1 ? w : null, k * m)));
    const sb = await Promise.all(ctxs.map((c) => shareInput(c, 1, c.id === 1 ? bias : null, m)));
    const op = (xx: Uint32Array, ww: Uint32Array) => matmulU32(xx, ww, b, k, m);
    const r = await runCosted(ctxs, (c) => linear(c, op, sx[c.id], sw[c.id], sb[c.id]));
    const ref = op(x, w);
    for (let e = 0; e < b * m; e++) ref[e] += bias[e % m];
    expect(openA(r.results)).toEqual(ref);
    expect(r.rounds).toBe(1);
    expect(r.cost.map((s) => s.bytesSent)).toEqual([4 * b * m, 4 * b * m, 4 * b * m]);
  });
});

describe("truncate", () => {
  it("gives x >> d or (x >> d) - 1 for |x| < 2^30, never more; 1 round, 20n/4n/4n bytes", async () => {
    const { ctxs } = makeParties();
    const n = 20000;
    const x = new Uint32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.floor((Math.random() * 2 - 1) * (2 ** 30 - 1)) | 0;
    x.set([
      0,
      1,
      -1 >>> 0,
      2 ** 30 - 1,
      -(2 ** 30 - 1) >>> 0,
      4095,
      4096,
      -4096 >>> 0,
      -4097 >>> 0,
    ]);
    const sx = await Promise.all(ctxs.map((c) => shareInput(c, 1, c.id === 1 ? x : null, n)));
    for (const d of [1, 12, 30]) {
      const r = await runCosted(ctxs, (c) => truncate(c, sx[c.id], d));
      const y = openA(r.results);
      for (let i = 0; i < n; i++) {
        const diff = ((y[i] | 0) - ((x[i] | 0) >> d)) | 0;
        if (diff !== 0 && diff !== -1)
          throw new Error(`truncate by ${d}: x=${x[i] | 0} gave ${y[i] | 0}`);
      }
      expect(r.rounds).toBe(1);
      expect(r.cost.map((s) => s.bytesSent)).toEqual([20 * n, 4 * n, 4 * n]);
    }
  });
});

describe("truncateExact", () => {
  it("gives exactly x >> d for |x| < 2^30 (fast truncate + carry of the low d bits)", async () => {
    const { ctxs } = makeParties();
    const n = 5000;
    const x = new Uint32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.floor((Math.random() * 2 - 1) * (2 ** 30 - 1)) | 0;
    x.set([
      0,
      1,
      -1 >>> 0,
      2 ** 30 - 1,
      -(2 ** 30 - 1) >>> 0,
      4095,
      4096,
      -4096 >>> 0,
      -4097 >>> 0,
    ]);
    const sx = await Promise.all(ctxs.map((c) => shareInput(c, 1, c.id === 1 ? x : null, n)));
    const w = wordsFor(n);
    for (const d of [1, 12, 30]) {
      const preps = await Promise.all(
        ctxs.map((c) => secureMsbFor(d).prepare(c, n, { arith: true })),
      );
      const r = await runCosted(ctxs, (c) => truncateExact(c, sx[c.id], d, preps[c.id]));
      const y = openA(r.results);
      for (let i = 0; i < n; i++) {
        if ((y[i] | 0) !== (x[i] | 0) >> d)
          throw new Error(`truncateExact by ${d}: x=${x[i] | 0} gave ${y[i] | 0}`);
      }
      const c = secureMsbCost(d, true);
      expect(r.rounds).toBe(c.rounds + 1);
      expect(r.cost.map((s) => s.bytesSent)).toEqual([
        4 * w * c.p0 + 20 * n,
        4 * w * c.p12 + 4 * n,
        4 * w * c.p12 + 4 * n,
      ]);
    }
    // without daBits the carry goes through the OT b2a
    const r = await runCosted(ctxs, (c) => truncateExact(c, sx[c.id], 12));
    const y = openA(r.results);
    for (let i = 0; i < n; i++) expect(y[i] | 0).toBe((x[i] | 0) >> 12);
  });
});

describe("sign / relu", () => {
  for (const [name, msb] of [
    ["secure", secureMsb],
    ["cbnn", cbnnMsb(20)],
  ] as const) {
    it(`signArith and relu (${name} MSB) equal plaintext`, async () => {
      const { ctxs } = makeParties();
      const n = 777;
      const x = new Uint32Array(n);
      for (let i = 0; i < n; i++) x[i] = Math.floor((Math.random() * 2 - 1) * 2 ** 20) | 0;
      x.set([0, 1, -1 >>> 0, 2 ** 20 - 1, -(2 ** 20 - 1) >>> 0]);
      const sx = await Promise.all(ctxs.map((c) => shareInput(c, 2, c.id === 2 ? x : null, n)));
      const s = openA(await Promise.all(ctxs.map((c) => signArith(c, msb, sx[c.id]))));
      const rl = openA(await Promise.all(ctxs.map((c) => relu(c, msb, sx[c.id]))));
      for (let i = 0; i < n; i++) {
        expect(s[i]).toBe((x[i] | 0) >= 0 ? 1 : 0);
        expect(rl[i]).toBe((x[i] | 0) >= 0 ? x[i] : 0);
      }
    });
  }
});

describe("maxpool", () => {
  const g: PoolGeometry = { batch: 2, inShape: [4, 6, 3], pool: [2, 2], strides: [2, 2] };
  const nIn = 2 * 4 * 6 * 3;
  const plainMax = (v: ArrayLike<number>, signed: boolean) =>
    poolSlots(g).reduce<number[]>(
      (acc, idx) =>
        Array.from(idx, (j, o) =>
          acc.length ? Math.max(acc[o], signed ? v[j] | 0 : v[j]) : signed ? v[j] | 0 : v[j],
        ),
      [],
    );

  it("OR over bits: 2 AND rounds for 2x2, equal-values windows included", async () => {
    const { ctxs } = makeParties();
    const bits = Array.from({ length: nIn }, () => (Math.random() < 0.2 ? 1 : 0));
    for (let j = 0; j < 6 * 3; j++) bits[j] = 0; // first rows all zero: windows of equal 0s
    const sb = await Promise.all(
      ctxs.map((c) => shareInputB(c, 0, c.id === 0 ? packBits(bits) : null, nIn)),
    );
    const r = await runCosted(ctxs, (c) => maxpoolOr(c, sb[c.id], g));
    const nOut = 2 * 2 * 3 * 3;
    expect(Array.from(unpackBits(openB(r.results), nOut))).toEqual(plainMax(bits, false));
    expect(r.rounds).toBe(2);
    expect(r.cost.map((s) => s.bytesSent)).toEqual(
      [0, 1, 2].map(() => 4 * (wordsFor(2 * nOut) + wordsFor(nOut))),
    );
  });

  it("sum-sign over bits equals OR", async () => {
    const { ctxs } = makeParties();
    const bits = Array.from({ length: nIn }, () => (Math.random() < 0.2 ? 1 : 0));
    const sx = await Promise.all(
      ctxs.map((c) => shareInput(c, 0, c.id === 0 ? Uint32Array.from(bits) : null, nIn)),
    );
    const out = await Promise.all(ctxs.map((c) => maxpoolSumSign(c, sx[c.id], g, secureMsb)));
    expect(Array.from(unpackBits(openB(out), 36))).toEqual(plainMax(bits, false));
  });

  it("general max over signed values (ties included)", async () => {
    const { ctxs } = makeParties();
    const x = new Uint32Array(nIn);
    for (let i = 0; i < nIn; i++) x[i] = Math.floor((Math.random() * 2 - 1) * 2 ** 20) | 0;
    x.fill(7, 0, 6 * 3 * 2); // equal values in the first windows
    const sx = await Promise.all(ctxs.map((c) => shareInput(c, 1, c.id === 1 ? x : null, nIn)));
    const out = await Promise.all(ctxs.map((c) => maxpoolMax(c, sx[c.id], g, secureMsb)));
    expect(Array.from(openA(out), (v) => v | 0)).toEqual(plainMax(x, true));
  });
});
