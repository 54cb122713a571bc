import { describe, expect, it } from "vitest";
import { unpackBits, wordsFor } from "../ring/bits";
import { makeParties, openA, openB, randomWithEdges, runCosted } from "../testing/harness";
import { shareInput } from "./input";
import type { MsbProtocol } from "./msb";
import { cbnnMsb } from "./msb-cbnn";
import { SECURE_MSB_ANDS, SECURE_MSB_ROUNDS, secureMsb } from "./msb-secure";

async function check(protocol: MsbProtocol, x: Uint32Array) {
  const { ctxs } = makeParties();
  const n = x.length;
  const sx = await Promise.all(ctxs.map((c) => shareInput(c, 0, c.id === 0 ? x : null, n)));
  const preps = await Promise.all(ctxs.map((c) => protocol.prepare(c, n)));
  const r = await runCosted(ctxs, (c) => protocol.extract(c, sx[c.id], preps[c.id]));
  const bits = unpackBits(openB(r.results.map((m) => m.msb)), n);
  for (let i = 0; i < n; i++) {
    if (bits[i] !== x[i] >>> 31) throw new Error(`MSB wrong at ${i}: x=${x[i] | 0}`);
  }
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
      4 * w * (32 + SECURE_MSB_ANDS),
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

describe("cbnnMsb (paper Alg. 3, bounded r)", () => {
  it("is right on all 2^16 values of a 16-bit sweep; online 1 round, 8n bytes each", async () => {
    const n = 1 << 16;
    const x = new Uint32Array(n);
    for (let i = 0; i < n; i++) x[i] = (i - 32768) | 0;
    const r = await check(cbnnMsb(16), x);
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
