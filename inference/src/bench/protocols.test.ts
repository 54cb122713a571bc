import { describe, expect, it } from "vitest";
import { benchProtocols, formatProtocolsBench } from "./protocols";

describe("benchProtocols", () => {
  it("returns one row per protocol with transport-counted rounds and bytes", async () => {
    const n = 64;
    const r = await benchProtocols({ quick: true, n, repeats: 2 });
    expect(r.n).toBe(n);
    expect(r.protocols.map((p) => p.protocol)).toEqual([
      "shareInput",
      "mulA",
      "b2a",
      "bitMul",
      "truncate",
      "msb secure (b = 31)",
      "msb cbnn b=24 (prep+onl.)",
    ]);
    const row = (name: string) => r.protocols.find((p) => p.protocol === name)!;
    for (const p of r.protocols) {
      expect(p.n).toBe(n);
      expect(p.repeats).toBe(2);
      expect(p.minMs).toBeLessThanOrEqual(p.medianMs);
      expect(p.medianMs).toBeLessThanOrEqual(p.maxMs);
      expect(p.rounds).toBeGreaterThan(0);
    }
    // input sharing: the owner sends one ring element per value to one party, 1 round
    expect(row("shareInput").bytesSent).toEqual([4 * n, 0, 0]);
    expect(row("shareInput").rounds).toBe(1);
    // a multiplication reshares one ring element per value at every party, 1 round
    expect(row("mulA").bytesSent).toEqual([4 * n, 4 * n, 4 * n]);
    expect(row("mulA").rounds).toBe(1);
    expect(row("msb secure (b = 31)").rounds).toBeGreaterThan(row("mulA").rounds);

    const m = r.mnistNet1;
    expect(m.outBoundBits.map((b) => b.split(" ")[0])).toEqual(["fc1", "fc2", "fc3"]);
    expect(m.rows.map((x) => x.variant)).toEqual([
      "secure MSB",
      "secure MSB, no bounds (b = 31)",
      "cbnn MSB, opened to P2",
      "cbnn MSB, opened to all",
    ]);
    // weights shared by P1 only, one ring element each, whatever the MSB
    const params = 784 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10;
    for (const x of m.rows) {
      expect(x.modelSetupBytes).toEqual([0, 4 * params, 0]);
      expect(x.onlineRounds).toBeGreaterThan(0);
      expect(x.onlineBytes.every((b) => b > 0)).toBe(true);
    }
    // without bounds the secure MSB works on 31 bits: more online bytes than with them
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(m.rows[1]!.onlineBytes)).toBeGreaterThan(sum(m.rows[0]!.onlineBytes));
    expect(m.rows[3]!.cbnnOpen).toBe("all");

    const text = formatProtocolsBench(r);
    expect(text).toContain(`protocols on ${n} values`);
    expect(text.split("\n").length).toBe(1 + 7 + 1 + 4);
  }, 30_000);

  it("rejects a bad size", async () => {
    await expect(benchProtocols({ quick: true, n: 0 })).rejects.toThrow(/n must be >= 1/);
  });
});
