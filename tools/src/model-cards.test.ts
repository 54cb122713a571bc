import { describe, expect, it } from "vitest";
import { exportFlags } from "./model-cards";

describe("exportFlags", () => {
  it("says nothing for defaults and older exports without presignBits", () => {
    expect(exportFlags({ fracBits: 12, presignBits: 28 })).toBe("");
    expect(exportFlags({ fracBits: 12 })).toBe("");
  });
  it("names every non-default option the export recorded", () => {
    expect(exportFlags({ fracBits: 14, presignBits: null, mergeSeparable: true })).toBe(
      "--frac-bits 14 --presign-bits none --merge-separable",
    );
    expect(exportFlags({ fracBits: 12, presignBits: 24 })).toBe("--presign-bits 24");
  });
});
