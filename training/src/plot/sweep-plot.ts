import { renderPng } from "./png";
import { lineChartSvg } from "./svg";

export interface SweepRow {
  lambda: number;
  bestEpoch: number | null;
  bestValAcc: number | null;
  testAcc: number | null;
  runDir: string;
}

/** Draws accuracy vs lambda (paper Fig. 6a) for the finished rows. */
export async function plotSweep(rows: SweepRow[], path: string, title: string): Promise<void> {
  const done = rows.filter((r) => r.testAcc !== null || r.bestValAcc !== null);
  if (done.length === 0) throw new Error("no finished runs to plot");
  const series = [];
  const test = done
    .filter((r) => r.testAcc !== null)
    .map((r) => [r.lambda, 100 * r.testAcc!] as [number, number]);
  if (test.length) series.push({ name: "test accuracy (best-val checkpoint)", points: test });
  const val = done
    .filter((r) => r.bestValAcc !== null)
    .map((r) => [r.lambda, 100 * r.bestValAcc!] as [number, number]);
  if (val.length) series.push({ name: "best validation accuracy", points: val, dashed: true });
  await renderPng(
    lineChartSvg({
      title,
      xLabel: "KD weight λ (1 = no distillation)",
      yLabel: "accuracy (%)",
      series,
    }),
    path,
  );
}
