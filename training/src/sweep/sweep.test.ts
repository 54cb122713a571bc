import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fetchDataset } from "@cbnn/datasets";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTraining } from "../trainer/run";
import { finishedRunMismatch, parseLambdas, runSweep } from "./sweep";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cbnn-sweep-"));
  dirs.push(d);
  return d;
}
beforeAll(async () => {
  await fetchDataset("mnist");
}, 120_000);
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const base = {
  T: 4,
  t2Scaling: false,
  epochs: 1,
  batch: 64,
  lr: 1e-3,
  lrSchedule: "constant" as const,
  seed: 1,
  width: 1,
  backend: "wasm" as const,
  limit: 1000,
  progress: false as const,
  log: () => {},
};

describe("sweep", () => {
  it("parses lambda lists and ranges", () => {
    expect(parseLambdas("0,0.5,1")).toEqual([0, 0.5, 1]);
    expect(parseLambdas("0:1:0.25")).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(parseLambdas("0:1:0.1")).toHaveLength(11);
    expect(() => parseLambdas("0,2")).toThrow(/outside/);
    expect(() => parseLambdas("0,x")).toThrow(/"x"/);
    expect(() => parseLambdas("0.5,0.5")).toThrow(/repeated/);
  });

  it("trains one run per lambda, writes CSV + PNG, and a rerun skips finished runs", async () => {
    const teacher = tmp();
    await runTraining({
      ...base,
      model: "mnistnet1",
      lambda: 1,
      out: teacher,
      resume: false,
      testAtEnd: false,
    });
    const out = tmp();
    const kdCacheDir = tmp();
    const ctrl = new AbortController();
    // Stop after the first lambda's run finishes: the sweep must resume from there.
    const first = await runSweep({
      ...base,
      model: "mnistnet1",
      teacher,
      lambdas: [0, 1],
      out,
      kdCacheDir,
      signal: ctrl.signal,
      log: (l) => {
        if (l.startsWith("best epoch")) ctrl.abort();
      },
    });
    expect(first.stopped).toBe(true);
    expect(first.rows[0].testAcc).not.toBeNull();
    expect(first.rows[1].testAcc).toBeNull();
    const logs: string[] = [];
    const r = await runSweep({
      ...base,
      model: "mnistnet1",
      teacher,
      lambdas: [0, 1],
      out,
      kdCacheDir,
      log: (l) => logs.push(l),
    });
    expect(r.stopped).toBe(false);
    expect(logs.some((l) => l.startsWith("lambda 0: done earlier"))).toBe(true);
    expect(r.rows[0].testAcc).toBe(first.rows[0].testAcc);
    const csv = readFileSync(r.csv, "utf8").trim().split("\n");
    expect(csv[0]).toBe("lambda,best_epoch,best_val_acc,test_acc,run_dir");
    expect(csv).toHaveLength(3);
    expect(existsSync(r.png)).toBe(true);
    const meta = await sharp(r.png).metadata();
    expect([meta.width, meta.height]).toEqual([800, 500]);
    for (const row of r.rows) expect(row.testAcc).toBeGreaterThan(0.5);
    // the finished runs were trained at lr 1e-3 without weight decay: another
    // setting must not silently reuse them
    for (const other of [{ lr: 2e-3 }, { weightDecay: 0.05 }]) {
      await expect(
        runSweep({
          ...base,
          ...other,
          model: "mnistnet1",
          teacher,
          lambdas: [0, 1],
          out,
          kdCacheDir,
        }),
      ).rejects.toThrow(/holds a finished run with other settings/);
    }
  }, 120_000);

  it("names each setting in which a finished run differs", () => {
    const run = {
      hyper: {
        epochs: 1,
        batchSize: 64,
        microBatch: 64,
        lr: 1e-3,
        lrSchedule: "constant" as const,
        seed: 1,
      },
      kd: { T: 4, t2Scaling: false },
    };
    expect(finishedRunMismatch(run, base)).toBeNull();
    expect(finishedRunMismatch(run, { ...base, weightDecay: 0 })).toBeNull();
    expect(finishedRunMismatch(run, { ...base, weightDecay: 0.05, seed: 2 })).toBe(
      "--seed was 1, now 2; --weight-decay was 0, now 0.05",
    );
    expect(finishedRunMismatch(run, { ...base, T: 10 })).toBe("--T was 4, now 10");
    // a run trained without a teacher records no T, so any T matches it
    expect(finishedRunMismatch({ ...run, kd: null }, { ...base, T: 10 })).toBeNull();
    expect(finishedRunMismatch(run, { ...base, microBatch: 32 })).toBe(
      "--micro-batch was 64, now 32",
    );
    expect(finishedRunMismatch(run, { ...base, poolFirst: true })).toBe(
      "--pool-first was false, now true",
    );
  });
});
