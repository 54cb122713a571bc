import { describe, expect, it } from "vitest";
import { suites } from "./index";
import { stats, timeIt } from "./stats";

describe("bench stats", () => {
  it("median, min, max of odd and even sample counts", () => {
    expect(stats([3, 1, 2])).toEqual({ medianMs: 2, minMs: 1, maxMs: 3, repeats: 3 });
    expect(stats([4, 1, 2, 3]).medianMs).toBe(2.5);
    expect(() => stats([])).toThrow(/no samples/);
  });
  it("timeIt runs warmup + repeats", async () => {
    let calls = 0;
    const s = await timeIt(
      () => {
        calls++;
      },
      4,
      2,
    );
    expect(calls).toBe(6);
    expect(s.repeats).toBe(4);
  });
  it("the registry has the backend suite", () => {
    expect(Object.keys(suites)).toContain("backend");
    expect(typeof suites.backend!.run).toBe("function");
  });
});
