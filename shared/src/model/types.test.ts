import { describe, expect, it } from "vitest";
import { EXPORT_FORMAT_VERSION, RING_BITS } from "./types";

describe("export format constants", () => {
  it("uses the 32-bit ring and format version 1", () => {
    expect(RING_BITS).toBe(32);
    expect(EXPORT_FORMAT_VERSION).toBe(1);
  });
});
