import { describe, expect, it } from "vitest";
import { NET_PROFILES, netProfile, nowMs, ShapedPipe } from "./shaping";

describe("ShapedPipe", () => {
  it("writes synchronously and in order when unshaped", () => {
    const pipe = new ShapedPipe(NET_PROFILES.none);
    const out: number[] = [];
    for (let k = 0; k < 5; k++) pipe.push(100, () => out.push(k));
    expect(out).toEqual([0, 1, 2, 3, 4]);
  });

  it("keeps order, holds frames at least latency + bytes/bandwidth, and drain() resolves", async () => {
    const profile = { name: "test", latencyMs: 5, bytesPerSec: 1e6 };
    const pipe = new ShapedPipe(profile);
    const t0 = nowMs();
    const at: number[] = [];
    // 3 frames of 2000 bytes: 2 ms each on the wire, back to back
    for (let k = 0; k < 3; k++) pipe.push(2000, () => at.push(nowMs() - t0));
    expect(pipe.pending).toBe(3);
    await pipe.drain();
    expect(pipe.pending).toBe(0);
    expect(at).toHaveLength(3);
    // lower bounds only (a loaded machine may be late, never early)
    expect(at[0]).toBeGreaterThanOrEqual(5 + 2 - 0.05);
    expect(at[1]).toBeGreaterThanOrEqual(5 + 4 - 0.05);
    expect(at[2]).toBeGreaterThanOrEqual(5 + 6 - 0.05);
    expect(at[0]).toBeLessThanOrEqual(at[1]);
    expect(at[1]).toBeLessThanOrEqual(at[2]);
  });

  it("drops held frames on close and drain() does not hang", async () => {
    const pipe = new ShapedPipe(NET_PROFILES.wan);
    let wrote = false;
    pipe.push(10, () => {
      wrote = true;
    });
    const d = pipe.drain();
    pipe.close();
    await d;
    expect(wrote).toBe(false);
  });

  it("knows the paper's settings and rejects others", () => {
    expect(netProfile("lan")).toMatchObject({ latencyMs: 0.2, bytesPerSec: 625e6 });
    expect(netProfile("wan")).toMatchObject({ latencyMs: 80, bytesPerSec: 40e6 });
    expect(() => netProfile("5g")).toThrow(/unknown network setting "5g"/);
    expect(() => new ShapedPipe({ name: "x", latencyMs: 1, bytesPerSec: 0 })).toThrow(/bandwidth/);
  });
});
