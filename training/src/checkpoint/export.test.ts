import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fetchDataset } from "@cbnn/datasets";
import { loadExport } from "@cbnn/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend";
import { evaluateCheckpoint, evaluateExport } from "../trainer/evaluate";
import { runTraining } from "../trainer/run";
import { exportCheckpoint } from "./export";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cbnn-export-"));
  dirs.push(d);
  return d;
}
beforeAll(async () => {
  await fetchDataset("mnist");
}, 120_000);
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("export + evaluate glue", () => {
  it("exports a trained MnistNet1; fixed-point accuracy matches the float model's", async () => {
    const run = tmp();
    await runTraining({
      model: "mnistnet1",
      lambda: 1,
      T: 1,
      t2Scaling: false,
      epochs: 1,
      batch: 64,
      lr: 1e-3,
      lrSchedule: "constant",
      seed: 3,
      width: 1,
      resume: false,
      backend: "wasm",
      limit: 4000,
      out: run,
      testAtEnd: false,
      progress: false,
      log: () => {},
    });
    const { tf } = await initBackend({ backend: "wasm", log: () => {} });
    const out = join(tmp(), "export");
    const r = await exportCheckpoint(tf, { checkpoint: run, out, calibration: 200 });
    expect(r.reportText).toMatch(/fracBits 12/);
    const loaded = await loadExport(out);
    expect(loaded.weights.length).toBe(r.weights.length);
    // recorded relative to the export directory, so a moved clone still finds it
    expect(loaded.model.source.checkpoint).toBe(relative(out, join(run, "ckpt-e0001")));
    expect(resolve(out, String(loaded.model.source.checkpoint))).toBe(join(run, "ckpt-e0001"));

    // presignBits reaches exportModel: every pre-sign bound is capped (or not, with null)
    const bounds = (m: typeof r.model) =>
      m.layers.flatMap((l, i) =>
        "outBoundBits" in l && l.outBoundBits !== undefined && m.layers[i + 1]?.kind === "sign"
          ? [l.outBoundBits]
          : [],
      );
    expect(bounds(r.model).length).toBe(2);
    expect(Math.max(...bounds(r.model))).toBeLessThanOrEqual(28);
    const capped = await exportCheckpoint(tf, {
      checkpoint: run,
      out: join(tmp(), "export16"),
      calibration: 50,
      presignBits: 16,
    });
    expect(Math.max(...bounds(capped.model))).toBeLessThanOrEqual(16);
    const uncapped = await exportCheckpoint(tf, {
      checkpoint: run,
      out: join(tmp(), "export-none"),
      calibration: 50,
      presignBits: null,
    });
    expect(Math.max(...bounds(uncapped.model))).toBeGreaterThan(28);

    const fixed = await evaluateExport(out, { limit: 1000 });
    const float = await evaluateCheckpoint(run, { limit: 1000 });
    expect(fixed.float).not.toBeNull();
    expect(fixed.float!.acc).toBe(float.acc);
    expect(fixed.float!.argmaxAgreement).toBeGreaterThanOrEqual(0.99);
    expect(Math.abs(fixed.acc - float.acc)).toBeLessThanOrEqual(0.01);
    expect(float.acc).toBeGreaterThan(0.8);
  }, 120_000);

  it("names the problem for a missing checkpoint or export", async () => {
    const { tf } = await initBackend({ backend: "wasm", log: () => {} });
    await expect(exportCheckpoint(tf, { checkpoint: "/nonexistent", out: tmp() })).rejects.toThrow(
      /--checkpoint \/nonexistent/,
    );
    await expect(evaluateExport("/nonexistent")).rejects.toThrow(/nonexistent/);
  });
});
