import { describe, expect, it } from "vitest";
import { getBit, packBits, unpackBits, wordsFor } from "../ring/bits";
import { makeParties, openA, openB, randomWithEdges, runCosted } from "../testing/harness";
import type { PartyId } from "../transport/types";
import { andB, orB } from "./and";
import { b2a } from "./b2a";
import { bitMul } from "./bit-mul";
import { shareInput, shareInputB } from "./input";
import { mulA } from "./mul";
import { ot3 } from "./ot3";
import { reshareA } from "./reshare";
import { revealAll, revealTo } from "./reveal";

const n = 1000;

describe("share input / reveal / reshare", () => {
  it("shareInput: one ring element per value, 1 round, opens to the input", async () => {
    const { ctxs } = makeParties();
    for (const owner of [0, 1, 2] as PartyId[]) {
      const x = randomWithEdges(n);
      const r = await runCosted(ctxs, (c) => shareInput(c, owner, c.id === owner ? x : null, n));
      expect(openA(r.results)).toEqual(x);
      expect(r.rounds).toBe(1);
      expect(r.cost.map((s) => s.bytesSent)).toEqual(
        [0, 1, 2].map((p) => (p === owner ? 4 * n : 0)),
      );
    }
  });

  it("shareInputB: packed bits", async () => {
    const { ctxs } = makeParties();
    const bits = Array.from({ length: n }, () => (Math.random() < 0.5 ? 1 : 0));
    const words = packBits(bits);
    const r = await runCosted(ctxs, (c) => shareInputB(c, 2, c.id === 2 ? words : null, n));
    expect(openB(r.results)).toEqual(words);
    expect(r.cost[2].bytesSent).toBe(4 * wordsFor(n));
  });

  it("revealTo / revealAll: costs and values", async () => {
    const { ctxs } = makeParties();
    const x = randomWithEdges(n);
    const sh = (await Promise.all(
      ctxs.map((c) => shareInput(c, 1, c.id === 1 ? x : null, n)),
    )) as never[];
    const r = await runCosted(ctxs, (c) => revealTo(c, 0, sh[c.id]));
    expect(r.results[0]).toEqual(x);
    expect(r.results[1]).toBeNull();
    expect(r.rounds).toBe(1);
    expect(r.cost.map((s) => s.bytesSent)).toEqual([0, 0, 4 * n]);
    const all = await runCosted(ctxs, (c) => revealAll(c, sh[c.id]));
    for (const v of all.results) expect(v).toEqual(x);
    expect(all.cost.map((s) => s.bytesSent)).toEqual([4 * n, 4 * n, 4 * n]);
  });

  it("reshareA turns masked 3-of-3 shares into replicated ones", async () => {
    const { ctxs } = makeParties();
    const r = await runCosted(ctxs, async (c) => {
      const z = c.rand.zeroShare(n);
      if (c.id === 1) z[5] += 42;
      return reshareA(c, z);
    });
    const v = openA(r.results);
    expect(v[5]).toBe(42);
    expect(v[4]).toBe(0);
    expect(r.rounds).toBe(1);
    expect(r.cost.map((s) => s.bytesSent)).toEqual([4 * n, 4 * n, 4 * n]);
  });
});

describe("mulA / andB / orB", () => {
  it("mulA matches plaintext products mod 2^32", async () => {
    const { ctxs } = makeParties();
    const x = randomWithEdges(n);
    const y = randomWithEdges(n).reverse();
    const sx = await Promise.all(ctxs.map((c) => shareInput(c, 0, c.id === 0 ? x : null, n)));
    const sy = await Promise.all(ctxs.map((c) => shareInput(c, 1, c.id === 1 ? y : null, n)));
    const r = await runCosted(ctxs, (c) => mulA(c, sx[c.id], sy[c.id]));
    const z = openA(r.results);
    for (let i = 0; i < n; i++) expect(z[i]).toBe(Math.imul(x[i], y[i]) >>> 0);
    expect(r.rounds).toBe(1);
    expect(r.cost.map((s) => s.bytesSent)).toEqual([4 * n, 4 * n, 4 * n]);
  });

  it("andB / orB match plaintext bits", async () => {
    const { ctxs } = makeParties();
    const xb = packBits(Array.from({ length: n }, () => (Math.random() < 0.5 ? 1 : 0)));
    const yb = packBits(Array.from({ length: n }, () => (Math.random() < 0.5 ? 1 : 0)));
    const sx = await Promise.all(ctxs.map((c) => shareInputB(c, 0, c.id === 0 ? xb : null, n)));
    const sy = await Promise.all(ctxs.map((c) => shareInputB(c, 2, c.id === 2 ? yb : null, n)));
    const and = await runCosted(ctxs, (c) => andB(c, sx[c.id], sy[c.id]));
    const or = await runCosted(ctxs, (c) => orB(c, sx[c.id], sy[c.id]));
    const a = unpackBits(openB(and.results), n);
    const o = unpackBits(openB(or.results), n);
    for (let i = 0; i < n; i++) {
      expect(a[i]).toBe(getBit(xb, i) & getBit(yb, i));
      expect(o[i]).toBe(getBit(xb, i) | getBit(yb, i));
    }
    expect(and.rounds).toBe(1);
    expect(and.cost.map((s) => s.bytesSent)).toEqual([0, 1, 2].map(() => 4 * wordsFor(n)));
  });
});

describe("ot3 (Alg. 1, 1-round form)", () => {
  it("receiver gets m_c; sender 8n bytes, helper 4n, 1 round", async () => {
    const { ctxs } = makeParties();
    const m0 = randomWithEdges(n);
    const m1 = randomWithEdges(n).reverse();
    const cBits = Array.from({ length: n }, () => (Math.random() < 0.5 ? 1 : 0));
    const c = packBits(cBits);
    const roles = { sender: 1 as PartyId, receiver: 2 as PartyId, helper: 0 as PartyId };
    const r = await runCosted(ctxs, (ctx) =>
      ot3(ctx, roles, n, ctx.id === 1 ? [m0, m1] : null, ctx.id === 1 ? null : c),
    );
    const got = r.results[2]!;
    for (let i = 0; i < n; i++) expect(got[i]).toBe(cBits[i] ? m1[i] : m0[i]);
    expect(r.results[0]).toBeNull();
    expect(r.rounds).toBe(1);
    expect(r.cost.map((s) => s.bytesSent)).toEqual([4 * n, 8 * n, 0]);
  });
});

describe("b2a (Alg. 4) and bitMul (Alg. 5)", () => {
  it("b2a: bits to ring values, 1 round, 24n bytes (16n/4n/4n)", async () => {
    const { ctxs } = makeParties();
    const bits = Array.from({ length: n }, (_, i) => (i < 5 ? 1 : Math.random() < 0.5 ? 1 : 0));
    const sb = await Promise.all(
      ctxs.map((c) => shareInputB(c, 1, c.id === 1 ? packBits(bits) : null, n)),
    );
    const r = await runCosted(ctxs, (c) => b2a(c, sb[c.id]));
    expect(Array.from(openA(r.results))).toEqual(bits);
    expect(r.rounds).toBe(1);
    expect(r.cost.map((s) => s.bytesSent)).toEqual([16 * n, 4 * n, 4 * n]);
  });

  it("bitMul: b * x on random and edge values, 1 round, 48n bytes (20n/8n/20n)", async () => {
    const { ctxs } = makeParties();
    const bits = Array.from({ length: n }, (_, i) => (i < 9 ? 1 : Math.random() < 0.5 ? 1 : 0));
    const x = randomWithEdges(n);
    const sb = await Promise.all(
      ctxs.map((c) => shareInputB(c, 0, c.id === 0 ? packBits(bits) : null, n)),
    );
    const sx = await Promise.all(ctxs.map((c) => shareInput(c, 1, c.id === 1 ? x : null, n)));
    const r = await runCosted(ctxs, (c) => bitMul(c, sb[c.id], sx[c.id]));
    const z = openA(r.results);
    for (let i = 0; i < n; i++) expect(z[i]).toBe(bits[i] ? x[i] : 0);
    expect(r.rounds).toBe(1);
    expect(r.cost.map((s) => s.bytesSent)).toEqual([20 * n, 8 * n, 20 * n]);
  });
});
