import { describe, expect, it } from "vitest";
import { unpackBits, wordsFor } from "../ring/bits";
import { makeParties, openA, openB, randomWithEdges, runCosted } from "../testing/harness";
import { shareInput } from "./input";
import type { MsbProtocol } from "./msb";
import { cbnnMsb } from "./msb-cbnn";
import {
  SECURE_MSB_ANDS,
  SECURE_MSB_ROUNDS,
  secureMsb,
  secureMsbCost,
  secureMsbFor,
} from "./msb-secure";

async function check(protocol: MsbProtocol, x: Uint32Array, arith = false) {
  const { ctxs } = makeParties();
  const n = x.length;
  const sx = await Promise.all(ctxs.map((c) => shareInput(c, 0, c.id === 0 ? x : null, n)));
  const preps = await Promise.all(ctxs.map((c) => protocol.prepare(c, n, { arith })));
  const r = await runCosted(ctxs, (c) => protocol.extract(c, sx[c.id], preps[c.id]));
  const bits = unpackBits(openB(r.results.map((m) => m.msb)), n);
  for (let i = 0; i < n; i++) {
    if (bits[i] !== x[i] >>> 31) throw new Error(`MSB wrong at ${i}: x=${x[i] | 0}`);
  }
  if (arith) expect(r.results[0].msbArith).toBeDefined();
  if (r.results[0].msbArith) {
    const a = openA(r.results.map((m) => m.msbArith!));
    for (let i = 0; i < n; i++) expect(a[i]).toBe(x[i] >>> 31);
  }
  return r;
}

describe("secureMsb", () => {
  it("is right on all 2^16 values of a 16-bit sweep, with the stated cost", async () => {
    const n = 1 << 16;
    const x = new Uint32Array(n);
    for (let i = 0; i < n; i++) x[i] = (i - 32768) | 0;
    const r = await check(secureMsb, x);
    const w = wordsFor(n);
    expect(r.rounds).toBe(SECURE_MSB_ROUNDS);
    expect(r.cost.map((s) => s.bytesSent)).toEqual([
      4 * w * (32 + SECURE_MSB_ANDS - 31),
      4 * w * SECURE_MSB_ANDS,
      4 * w * SECURE_MSB_ANDS,
    ]);
  });

  it("is right on random 32-bit values and ring edges (odd batch size)", async () => {
    await check(secureMsb, randomWithEdges(10001));
    await check(secureMsb, new Uint32Array(33).fill(0x80000000));
    await check(secureMsb, new Uint32Array(1).fill(0x7fffffff));
  });
});

describe("secureMsbFor (bounded input)", () => {
  function sweep(bits: number): Uint32Array {
    // every value with |x| < 2^bits when that is small, else the edges and a random fill
    const lim = 2 ** bits - 1;
    const n = Math.min(2 * lim + 1, 1 << 14);
    const x = new Uint32Array(n);
    for (let i = 0; i < n; i++)
      x[i] = (n === 2 * lim + 1 ? i - lim : Math.floor((Math.random() * 2 - 1) * lim)) | 0;
    x.set([0, 1, -1 >>> 0, lim, -lim >>> 0].slice(0, n));
    return x;
  }

  it("is right on its whole range (small bounds) and at the edges (large), with the stated cost", async () => {
    for (const bits of [1, 2, 3, 5, 8, 13, 16, 24, 30]) {
      const x = sweep(bits);
      const r = await check(secureMsbFor(bits), x);
      const w = wordsFor(x.length);
      const c = secureMsbCost(bits);
      expect(r.rounds).toBe(c.rounds);
      expect(r.cost.map((s) => s.bytesSent)).toEqual([4 * w * c.p0, 4 * w * c.p12, 4 * w * c.p12]);
    }
    expect(secureMsbCost(31)).toEqual({ ands: 86, planes: 32, rounds: 7, p0: 87, p12: 86 });
    expect(secureMsbCost(16)).toEqual({ ands: 42, planes: 17, rounds: 6, p0: 43, p12: 42 });
  });

  it("with daBits: ring form too, same rounds, the last AND round opens MSB ^ rho", async () => {
    for (const bits of [1, 2, 7, 16, 31]) {
      const x = bits === 31 ? randomWithEdges(3000) : sweep(bits);
      const r = await check(secureMsbFor(bits), x, true);
      const w = wordsFor(x.length);
      const c = secureMsbCost(bits, true);
      expect(r.rounds).toBe(c.rounds);
      // the last AND layer's reshare (4w each) becomes an open to both others (8w each)
      expect(r.cost.map((s) => s.bytesSent)).toEqual([4 * w * c.p0, 4 * w * c.p12, 4 * w * c.p12]);
    }
  });

  it("extract3: from a 3-of-3 sharing (a linear output before its reshare), one round fewer", async () => {
    for (const [bits, arith] of [
      [12, false],
      [12, true],
      [31, true],
      [1, true],
    ] as const) {
      const x = bits === 31 ? randomWithEdges(777) : sweep(bits);
      const n = x.length;
      const { ctxs } = makeParties();
      // a 3-of-3 sharing under a zero share, as linearShares makes it
      const parts = ctxs.map((c) => c.rand.zeroShare(n));
      for (let i = 0; i < n; i++) parts[0][i] += x[i];
      const p = secureMsbFor(bits);
      const preps = await Promise.all(ctxs.map((c) => p.prepare(c, n, { arith })));
      const r = await runCosted(ctxs, (c) => p.extract3!(c, parts[c.id], preps[c.id]));
      const got = unpackBits(openB(r.results.map((m) => m.msb)), n);
      for (let i = 0; i < n; i++) expect(got[i]).toBe(x[i] >>> 31);
      if (arith)
        expect(Array.from(openA(r.results.map((m) => m.msbArith!)))).toEqual(Array.from(got));
      const w = wordsFor(n);
      const c = secureMsbCost(bits, arith);
      // the planes' round also carries P1 <-> P2's swap of their components (4n each)
      expect(r.rounds).toBe(c.rounds);
      expect(r.cost.map((s) => s.bytesSent)).toEqual([
        4 * w * c.p0,
        4 * n + 4 * w * c.p12,
        4 * n + 4 * w * c.p12,
      ]);
    }
  });

  it("is wrong outside its bound (the bound must be proven)", async () => {
    const x = Uint32Array.from([2 ** 8, 2 ** 8 + 5, -(2 ** 8 + 1) >>> 0]);
    await expect(check(secureMsbFor(8), x)).rejects.toThrow(/MSB wrong/);
    expect(() => secureMsbFor(32)).toThrow(/1..31/);
  });
});

describe("cbnnMsb (paper Alg. 3, bounded r)", () => {
  it("is right on all 2^16 values of a 16-bit sweep; online 2 rounds, opened to P2 only", async () => {
    const n = 1 << 16;
    const x = new Uint32Array(n);
    for (let i = 0; i < n; i++) x[i] = (i - 32768) | 0;
    const r = await check(cbnnMsb(16), x);
    expect(r.rounds).toBe(2);
    const w = wordsFor(n);
    expect(r.cost.map((s) => s.bytesSent)).toEqual([4 * n, 4 * n, 8 * w]);
    // only P2 receives ring elements
    expect(r.cost.map((s) => s.bytesReceived)).toEqual([4 * w, 4 * w, 8 * n]);
  });

  it('openTo "all" (the paper\'s open): 1 round, 8n bytes each', async () => {
    const n = 5000;
    const x = new Uint32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.floor((Math.random() * 2 - 1) * (2 ** 20 - 1)) | 0;
    x.set([0, 1, -1 >>> 0, 2 ** 20 - 1, -(2 ** 20 - 1) >>> 0]);
    const r = await check(cbnnMsb(20, { openTo: "all" }), x);
    expect(r.rounds).toBe(1);
    expect(r.cost.map((s) => s.bytesSent)).toEqual([8 * n, 8 * n, 8 * n]);
  });

  it("is right on random values within its bound, including the bound's edges", async () => {
    const bits = 24;
    const n = 20000;
    const x = new Uint32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.floor((Math.random() * 2 - 1) * (2 ** bits - 1)) | 0;
    x.set([0, 1, -1 >>> 0, 2 ** bits - 1, -(2 ** bits - 1) >>> 0]);
    await check(cbnnMsb(bits), x);
  });

  it("rejects bounds it cannot serve", () => {
    expect(() => cbnnMsb(29)).toThrow(/1..28/);
  });
});

describe("random edges helper", () => {
  it("covers the ring edges", () => {
    expect(Array.from(randomWithEdges(5))).toEqual([0, 1, 0xffffffff, 0x7fffffff, 0x80000000]);
  });
});
