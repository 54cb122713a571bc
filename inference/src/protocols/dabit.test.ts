import { describe, expect, it } from "vitest";
import { packBits, unpackBits, wordsFor } from "../ring/bits";
import { makeParties, openA, openB, runCosted } from "../testing/harness";
import { b2aDaBits, makeDaBits } from "./dabit";
import { shareInputB } from "./input";

describe("daBits", () => {
  it("makeDaBits: boolean and ring forms of the same bits, 1 setup round", async () => {
    const { ctxs } = makeParties();
    const n = 1000;
    const r = await runCosted(ctxs, (c) => makeDaBits(c, n));
    const b = unpackBits(openB(r.results.map((d) => d.bits)), n);
    const a = openA(r.results.map((d) => d.arith));
    let ones = 0;
    for (let i = 0; i < n; i++) {
      expect(a[i]).toBe(b[i]);
      ones += b[i];
    }
    expect(ones).toBeGreaterThan(400); // random, not constant
    expect(ones).toBeLessThan(600);
    expect(r.rounds).toBe(1);
    expect(r.cost.map((s) => s.bytesSent)).toEqual([16 * n, 4 * n, 4 * n]);
  });

  it("b2aDaBits: right on random bits (odd length), 1 round, 4 ceil(n/32) bytes each", async () => {
    const { ctxs } = makeParties();
    for (const n of [1, 31, 33, 1001]) {
      const bits = Array.from({ length: n }, (_, i) => (i < 2 ? i : Math.random() < 0.5 ? 1 : 0));
      const words = packBits(bits);
      const sb = await Promise.all(
        ctxs.map((c) => shareInputB(c, 0, c.id === 0 ? words : null, n)),
      );
      const d = await Promise.all(ctxs.map((c) => makeDaBits(c, n)));
      const r = await runCosted(ctxs, (c) => b2aDaBits(c, sb[c.id], d[c.id]));
      expect(Array.from(openA(r.results))).toEqual(bits);
      expect(r.rounds).toBe(1);
      const w = wordsFor(n);
      expect(r.cost.map((s) => s.bytesSent)).toEqual([4 * w, 4 * w, 4 * w]);
    }
  });
});
