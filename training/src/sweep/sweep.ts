import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../checkpoint/atomic";
import { RUN_JSON, readJsonFile, readLatest } from "../checkpoint/checkpoint";
import { plotSweep, type SweepRow } from "../plot/sweep-plot";

export type { SweepRow };

import { DEFAULT_RUNS_DIR, hyperParams, type RunOptions, runTraining } from "../trainer/run";
import { changedHyper, HYPER_FLAGS, HYPER_KEYS_FIXED, type RunJson } from "../trainer/trainer";

export interface SweepOptions extends Omit<RunOptions, "lambda" | "out" | "resume" | "testAtEnd"> {
  model: string;
  teacher: string;
  lambdas: number[];
  /** Sweep directory (default runs/sweep-<model>-<teacher>-T<T>). */
  out?: string;
}

export interface SweepResult {
  rows: SweepRow[];
  csv: string;
  png: string;
  out: string;
  /** True when an abort stopped the sweep before its last run. */
  stopped: boolean;
}

/** Parses "0,0.1,0.5" or "0:1:0.1" (start:stop:step, inclusive). */
export function parseLambdas(text: string): number[] {
  let xs: number[];
  const range = text.match(/^\s*([\d.]+)\s*:\s*([\d.]+)\s*:\s*([\d.]+)\s*$/);
  if (range) {
    const [a, b, s] = range.slice(1).map(Number);
    if (!(s > 0)) throw new Error(`--lambda ${text}: step must be > 0`);
    xs = [];
    for (let k = 0; a + k * s <= b + 1e-9; k++) xs.push(Number((a + k * s).toFixed(10)));
  } else {
    xs = text.split(",").map((t) => {
      const x = Number(t.trim());
      if (t.trim() === "" || !Number.isFinite(x))
        throw new Error(`--lambda ${text}: "${t}" is not a number`);
      return x;
    });
  }
  for (const x of xs)
    if (!(x >= 0 && x <= 1)) throw new Error(`--lambda ${text}: ${x} is outside [0, 1]`);
  if (new Set(xs).size !== xs.length) throw new Error(`--lambda ${text}: repeated values`);
  if (xs.length === 0) throw new Error(`--lambda ${text}: no values`);
  return xs;
}

export function sweepCsv(rows: SweepRow[]): string {
  const f = (x: number | null) => (x === null ? "" : String(x));
  return `lambda,best_epoch,best_val_acc,test_acc,run_dir\n${rows
    .map((r) => [r.lambda, f(r.bestEpoch), f(r.bestValAcc), f(r.testAcc), r.runDir].join(","))
    .join("\n")}\n`;
}

/**
 * Why a finished run in the sweep directory cannot stand for this sweep's
 * point (its run.json records other training settings), or null when it can.
 * Without this check a rerun with, say, another --lr or --weight-decay would
 * silently table the old runs.
 */
export function finishedRunMismatch(
  run: Pick<RunJson, "hyper"> & { kd?: { T: number; t2Scaling: boolean } | null },
  o: Parameters<typeof hyperParams>[0] & Pick<SweepOptions, "T" | "t2Scaling">,
): string | null {
  const diff: [string, unknown, unknown][] = changedHyper(run.hyper, hyperParams(o), [
    "epochs",
    ...HYPER_KEYS_FIXED,
  ]).map((d) => [HYPER_FLAGS[d.key], d.was, d.now]);
  // a run trained without a teacher (a copied-in no-KD twin) records no KD settings
  if (run.kd) {
    for (const [k, was, now] of [
      ["T", run.kd.T, o.T],
      ["t2-scaling", run.kd.t2Scaling, o.t2Scaling],
    ] as const) {
      if (was !== now) diff.push([k, was, now]);
    }
  }
  return diff.length === 0
    ? null
    : diff.map(([k, was, now]) => `--${k} was ${was}, now ${now}`).join("; ");
}

/**
 * One training per lambda into <out>/lambda-<x>/, each resumable: a finished
 * run is read back, an unfinished one resumed, so an interrupted sweep goes on
 * where it stopped. Writes <out>/sweep.csv, sweep.json and sweep.png.
 */
export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const tName = o.teacher
    .replace(/[/\\]+$/, "")
    .split(/[/\\]/)
    .pop();
  const out = resolve(o.out ?? join(DEFAULT_RUNS_DIR, `sweep-${o.model}-${tName}-T${o.T}`));
  mkdirSync(out, { recursive: true });
  const rows: SweepRow[] = [];
  let stopped = false;
  for (const lambda of o.lambdas) {
    const runDir = join(out, `lambda-${lambda}`);
    const latest = existsSync(runDir) ? readLatest(runDir) : null;
    const finalPath = join(runDir, "final.json");
    if (latest?.done && existsSync(finalPath)) {
      const runJsonPath = join(runDir, RUN_JSON);
      if (existsSync(runJsonPath)) {
        const why = finishedRunMismatch(
          readJsonFile<RunJson & { kd?: { T: number; t2Scaling: boolean } | null }>(runJsonPath),
          o,
        );
        if (why) {
          throw new Error(
            `${runDir} holds a finished run with other settings (${why}); choose another --out or remove it`,
          );
        }
      }
      const f = readJsonFile<{ bestEpoch: number; bestValAcc: number; testAcc: number }>(finalPath);
      log(`lambda ${lambda}: done earlier (test ${(100 * f.testAcc).toFixed(2)}%)`);
      rows.push({
        lambda,
        bestEpoch: f.bestEpoch,
        bestValAcc: f.bestValAcc,
        testAcc: f.testAcc,
        runDir,
      });
      continue;
    }
    if (stopped || o.signal?.aborted) {
      rows.push({ lambda, bestEpoch: null, bestValAcc: null, testAcc: null, runDir });
      stopped = true;
      continue;
    }
    log(`lambda ${lambda}: ${latest ? "resuming" : "training"} -> ${runDir}`);
    const r = await runTraining({
      ...o,
      lambda,
      out: runDir,
      resume: latest !== null,
      testAtEnd: true,
    });
    if (r.stopped) stopped = true;
    rows.push({
      lambda,
      bestEpoch: r.stopped ? null : (r.best?.epoch ?? null),
      bestValAcc: r.stopped ? null : (r.best?.valAcc ?? null),
      testAcc: r.testAcc,
      runDir,
    });
    r.model.dispose();
  }
  const csv = join(out, "sweep.csv");
  writeFileAtomic(csv, sweepCsv(rows));
  writeJsonAtomic(join(out, "sweep.json"), { model: o.model, teacher: o.teacher, T: o.T, rows });
  const png = join(out, "sweep.png");
  if (rows.some((r) => r.testAcc !== null)) {
    await plotSweep(rows, png, `${o.model} distilled from ${tName} (T=${o.T}): accuracy vs λ`);
  }
  return { rows, csv, png, out, stopped };
}
