import { basename } from "node:path";
import { Command } from "commander";
import { readJsonFile } from "../checkpoint/checkpoint";
import { HISTORY_METRICS, type HistoryMetric, historyChart, loadHistory } from "../plot/history";
import { renderPng } from "../plot/png";
import { lineChartSvg } from "../plot/svg";
import { plotSweep, type SweepRow } from "../plot/sweep-plot";
import { parseChoice, parseNumber, runMain } from "./common";

const program = new Command()
  .name("pnpm plot")
  .description("Plots (SVG rendered to PNG with sharp).");

program
  .command("history")
  .description("training curves of several runs, e.g. KD vs no KD (paper Fig. 5a, 6b)")
  .argument("<runs...>", "history.json files or run directories")
  .option("--out <file.png>", "output PNG", "history.png")
  .option(
    "--metric <m>",
    HISTORY_METRICS.join(" | "),
    parseChoice("--metric", HISTORY_METRICS),
    "valAcc",
  )
  .option("--labels <list>", "comma-separated legend labels (default from each run.json)")
  .option("--title <text>", "chart title")
  .option(
    "--width <px>",
    "image width",
    parseNumber("--width", { min: 200, max: 4000, integer: true }),
    800,
  )
  .option(
    "--height <px>",
    "image height",
    parseNumber("--height", { min: 150, max: 4000, integer: true }),
    500,
  )
  .action(
    async (
      runs: string[],
      o: {
        out: string;
        metric: HistoryMetric;
        labels?: string;
        title?: string;
        width: number;
        height: number;
      },
    ) => {
      const loaded = runs.map(loadHistory);
      if (o.labels) {
        const labels = o.labels.split(",");
        if (labels.length !== loaded.length) {
          throw new Error(`--labels: ${labels.length} labels for ${loaded.length} runs`);
        }
        labels.forEach((l, i) => {
          loaded[i].label = l;
        });
      }
      const spec = { ...historyChart(loaded, o.metric, o.title), width: o.width, height: o.height };
      const size = await renderPng(lineChartSvg(spec), o.out);
      console.log(`wrote ${o.out} (${size.width}x${size.height})`);
    },
  );

program
  .command("sweep")
  .description("accuracy vs lambda from a sweep's sweep.json (pnpm sweep draws it too)")
  .argument("<sweep.json>")
  .option("--out <file.png>", "output PNG", "sweep.png")
  .action(async (file: string, o: { out: string }) => {
    const s = readJsonFile<{ model: string; teacher: string; T: number; rows: SweepRow[] }>(file);
    if (!Array.isArray(s.rows)) throw new Error(`${file}: field "rows" missing`);
    const teacher = basename(String(s.teacher).replace(/[/\\]+$/, ""));
    await plotSweep(
      s.rows,
      o.out,
      `${s.model} distilled from ${teacher} (T=${s.T}): accuracy vs λ`,
    );
    console.log(`wrote ${o.out}`);
  });

runMain(async () => {
  await program.parseAsync();
});
