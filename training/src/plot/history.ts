import { existsSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { HISTORY_JSON, type HistoryEntry, RUN_JSON, readJsonFile } from "../checkpoint/checkpoint";
import type { TrainRunJson } from "../checkpoint/load";
import type { ChartSpec, Series } from "./svg";

export type HistoryMetric = "valAcc" | "trainAcc" | "valLoss" | "trainLoss";
export const HISTORY_METRICS: readonly HistoryMetric[] = [
  "valAcc",
  "trainAcc",
  "valLoss",
  "trainLoss",
];

const METRIC_LABEL: Record<HistoryMetric, string> = {
  valAcc: "validation accuracy (%)",
  trainAcc: "training accuracy (%)",
  valLoss: "validation loss",
  trainLoss: "training loss",
};

export interface LoadedHistory {
  path: string;
  label: string;
  history: HistoryEntry[];
}

/**
 * A history.json path or a run directory; labelled "KD lambda=.. T=.. (teacher)" or "no KD"
 * from run.json, with ", AdamW wd=.." when it was trained with weight decay.
 */
export function loadHistory(pathOrRun: string): LoadedHistory {
  const path =
    existsSync(pathOrRun) && statSync(pathOrRun).isDirectory()
      ? join(pathOrRun, HISTORY_JSON)
      : pathOrRun;
  const history = readJsonFile<HistoryEntry[]>(path);
  if (!Array.isArray(history) || history.some((h) => typeof h?.epoch !== "number")) {
    throw new Error(`${path}: not a history (an array of { epoch, valAcc, ... })`);
  }
  const runPath = join(dirname(path), RUN_JSON);
  let label = basename(dirname(path));
  if (existsSync(runPath)) {
    const run = readJsonFile<Partial<TrainRunJson>>(runPath);
    const name = run.model ?? label;
    label = run.kd
      ? `${name} KD λ=${run.kd.lambda} T=${run.kd.T} (${run.teacher?.model ?? "teacher"})`
      : `${name} no KD`;
    // AdamW runs are told apart from plain-Adam runs of the same recipe
    const wd = run.hyper?.weightDecay;
    if (typeof wd === "number" && wd > 0) label += `, AdamW wd=${wd}`;
    if (run.hyper?.signGrad === "approx") label += ", ApproxSign grad";
    const ema = run.hyper?.ema;
    if (typeof ema === "number" && ema > 0) label += `, EMA ${ema}`;
  }
  return { path, label, history };
}

export function historyChart(
  runs: LoadedHistory[],
  metric: HistoryMetric = "valAcc",
  title?: string,
): ChartSpec {
  if (!HISTORY_METRICS.includes(metric))
    throw new Error(`metric must be one of ${HISTORY_METRICS.join(", ")}`);
  const pct = metric.endsWith("Acc");
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
  const label = (r: LoadedHistory) =>
    (counts.get(r.label) ?? 0) > 1 ? `${r.label} [${basename(dirname(r.path))}]` : r.label;
  const series: Series[] = runs.map((r) => ({
    name: label(r),
    points: r.history.map((h) => [h.epoch, pct ? 100 * h[metric] : h[metric]] as [number, number]),
    dashed: r.label.includes("no KD"),
  }));
  return {
    title: title ?? `${METRIC_LABEL[metric]} per epoch`,
    xLabel: "epoch",
    yLabel: METRIC_LABEL[metric],
    series,
  };
}
