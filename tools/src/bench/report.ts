/**
 * Renders docs/RESULTS.md from every bench/results/*.json present (and the
 * figures found by figures.ts); `--quick` runs render
 * bench/results-quick/RESULTS.md from bench/results-quick/*.json instead.
 * Pure: `renderReport` takes the parsed files, so it is tested on fixtures;
 * `writeReport` reads, renders and writes.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { TrainRunJson } from "@cbnn/training";
import { earlierStagesPrefix, type ModelCard, withTeacherCheckpoint } from "../model-cards";
import { describeRun, type GitInfo, type MachineInfo, REPO_ROOT } from "./env";
import type { Figure } from "./figures";
import type { ModelInfo, ModelsResults, PlainRow, SecureRow } from "./models";
import { PAPER_CITATION, PAPER_TABLE1, PAPER_TABLE2, PAPER_TABLE3, type PaperRow } from "./paper";
import type { ProtocolsResults } from "./protocols";
import { QUICK_RESULTS_DIR, type ResultsFile, readAllResults, resultsDirFor } from "./results";
import type { TimingStats } from "./stats";
import type { TrainingResults } from "./training";

export const RESULTS_MD = path.join(REPO_ROOT, "docs", "RESULTS.md");
/** The report of `--quick` (smoke) runs, beside their results; ignored by git. */
export const QUICK_RESULTS_MD = path.join(QUICK_RESULTS_DIR, "RESULTS.md");

const GAP = "gap";

function f(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits);
}

/** "1.234 [1.1-1.4]" (seconds from ms stats). */
function secs(s: TimingStats | null | undefined, digits = 3): string {
  if (!s) return "-";
  return `${(s.medianMs / 1000).toFixed(digits)} [${(s.minMs / 1000).toFixed(digits)}-${(s.maxMs / 1000).toFixed(digits)}]`;
}

function ms(s: TimingStats | null | undefined, digits = 2): string {
  if (!s) return "-";
  return `${s.medianMs.toFixed(digits)} [${s.minMs.toFixed(digits)}-${s.maxMs.toFixed(digits)}]`;
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? "-" : (100 * x).toFixed(2);
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

function runLine(r: ResultsFile): string {
  const m = r.machine as MachineInfo | undefined;
  const g = (r.git as GitInfo | undefined) ?? { commit: "unknown", dirty: false };
  const where = m ? describeRun(m, g) : `machine unknown, commit ${g.commit}`;
  const load = m?.loadavg1 !== undefined ? `, load avg ${m.loadavg1}` : "";
  const dur = typeof r.durationS === "number" ? `, ${r.durationS.toFixed(0)} s` : "";
  return `${r.date}${r.quick ? " (--quick)" : ""}: ${where}${load}${dur}`;
}

function ranOn(r: ResultsFile): string {
  return `_Measured ${runLine(r)}._`;
}

const MODEL_TITLE: Record<string, string> = {
  mnistnet1: "MnistNet1",
  mnistnet2: "MnistNet2",
  mnistnet3: "MnistNet3",
  cifarnet2: "CifarNet2 (separable)",
  "cifarnet2-typical": "CifarNet2 typical BNN",
  "cifarnet2-relu": "CifarNet2 (separable), ReLU (ablation)",
  "cifarnet2-typical-relu": "CifarNet2 typical, ReLU (ablation)",
  "cifarnet2-relu3": "CifarNet2 (separable), ReLU after CONV 7-9 (ablation)",
  "cifarnet2-typical-relu3": "CifarNet2 typical, ReLU after CONV 7-9 (ablation)",
};
/**
 * The CIFAR-10 ablation pairs (typical, separable) and the label of the change row
 * between them, in the order Tables 2-3 list them; a model shows only when benchmarked.
 */
const ABLATION_PAIRS: readonly (readonly [string, string, string])[] = [
  ["cifarnet2-typical-relu", "cifarnet2-relu", "ours (ReLU): change"],
  ["cifarnet2-typical-relu3", "cifarnet2-relu3", "ours (ReLU after CONV 7-9): change"],
];
const benchmarked = (m: ModelsResults, name: string) => m.models.some((i) => i.name === name);
const title = (m: string) => MODEL_TITLE[m] ?? m;

function find(
  rows: SecureRow[],
  model: string,
  kind: SecureRow["kind"],
  net: string,
  msb: string,
): SecureRow | undefined {
  return rows.find((r) => r.model === model && r.kind === kind && r.net === net && r.msb === msb);
}

/** Batch-1 time per image: median [min-max] seconds, or the error as a gap. */
function timeCell(r: SecureRow | undefined): string {
  if (!r) return "-";
  if (!r.result) return `${GAP}: failed`;
  return secs(r.result.perBatch);
}

/** "online + offline" medians, seconds, where the report has per-batch steps. */
function splitCell(r: SecureRow | undefined): string {
  const x = r?.result;
  if (!x?.perBatchOnline || !x.perBatchOffline) return "-";
  return `${(x.perBatchOnline.medianMs / 1000).toFixed(3)} + ${(x.perBatchOffline.medianMs / 1000).toFixed(3)}`;
}

function roundsCell(x: SecureRow["result"] | undefined): string {
  if (!x) return "-";
  return x.offlineRoundsPerBatch === null || x.offlineRoundsPerBatch === undefined
    ? `${x.roundsPerBatch} + ?`
    : `${x.roundsPerBatch} + ${x.offlineRoundsPerBatch}`;
}

function boundCell(r: SecureRow | undefined): string {
  const b = r?.result?.bound;
  if (!b) return "-";
  return `${(b.ms / 1000).toFixed(3)} (x${f(b.ratio, 2)})`;
}

function accCell(r: SecureRow | undefined): string {
  if (!r) return "-";
  if (!r.result) return `${GAP}: failed`;
  const ok =
    r.matchesFixed === true
      ? " (= fixed point)"
      : r.matchesFixed === false
        ? " (differs from fixed point!)"
        : "";
  return `${pct(r.result.accuracy)} on ${r.result.count}${ok}`;
}

function weightsNote(info: ModelInfo | undefined): string {
  if (!info) return "-";
  if (info.weights === "random") return "random weights (cost only)";
  return info.label.includes("without KD") ? "trained without KD (OriNet)" : "trained";
}

/** The paper's CBNN accuracy for one of its networks (Tables 1-2), or undefined. */
function paperAccuracy(name: string): number | undefined {
  const row = [...PAPER_TABLE1, ...PAPER_TABLE2].find(
    (p) => p.arch === name && p.framework === "CBNN",
  );
  return row?.accPct;
}

/**
 * One line per trained model behind the tables: how it was trained (epochs, KD) and its
 * full-test-set accuracy from its model card beside the paper's, so a gap shows with its
 * cause. `cards` maps a model name to its card (absent: no card shipped).
 */
export function trainedModelsNote(
  models: readonly ModelInfo[],
  cards: ReadonlyMap<string, ModelCard>,
  exports: ReadonlyMap<string, ExportShas> = new Map(),
): string {
  const trained = models.filter((x) => x.weights === "trained");
  if (trained.length === 0) return "";
  const lines = trained.map((x) => {
    const card = cards.get(x.name);
    if (!card) return `- ${title(x.name)}: no model card in checkpoints/${x.name}/.`;
    const kd = card.kd
      ? `KD from ${card.kd.teacher} (lambda ${card.kd.lambda}, T ${card.kd.T})`
      : "no KD";
    const acc = card.fixedTestAcc ?? card.floatTestAcc;
    const paper = paperAccuracy(x.name);
    const gap = paper === undefined ? 0 : 100 * acc - paper;
    const vs = paper === undefined ? "" : `; paper ${paper.toFixed(2)}% (${pointsChange(gap)})`;
    // a continued run (--init) counts the epochs its starting weights already had, per stage
    const pre = earlierStagesPrefix(card);
    const e = exports.get(x.name);
    const stale =
      e?.measured && e.now && e.measured !== e.now
        ? ` **Its rows in the tables below measured an earlier export** (weights sha256 ${e.measured.slice(0, 12)}, now ${e.now.slice(0, 12)}): the accuracy on this line is the shipped export's, the tables' that of the earlier one; \`pnpm bench models\` measures the shipped one.`
        : "";
    return `- ${title(x.name)}: ${pre}${card.epochs} epochs (best ${pre}${card.bestEpoch}), ${kd}; ${card.fixedTestAcc === null ? "float" : "fixed point"} ${pct(acc)}% on ${card.testCount} test images${vs}.${stale}`;
  });
  return [
    "**Trained weights behind these rows** (from each model's card, full test set; cards in checkpoints/README.md, why each gap and how to continue each run in checkpoints/NOTES.md):",
    "",
    ...lines,
  ].join("\n");
}

/** The weights (blob sha256) of a model's export: the one the bench measured, and the one shipped now. */
export interface ExportShas {
  measured: string | null;
  now: string | null;
}

function blobSha(modelJson: string): string | null {
  try {
    const sha = (JSON.parse(modelJson) as { blob?: { sha256?: unknown } }).blob?.sha256;
    return typeof sha === "string" ? sha : null;
  } catch {
    return null;
  }
}

/**
 * For each trained model of a models run: the export it measured (recorded in the
 * results, or for older results the export at the run's commit, from git) and the
 * one in checkpoints/ now. Unknown values are null (no git, no such commit).
 */
function exportShas(run: ResultsFile & ModelsResults): Map<string, ExportShas> {
  const out = new Map<string, ExportShas>();
  for (const info of run.models) {
    if (info.weights !== "trained") continue;
    const dir = /checkpoints\/([^)\s]+)\)/.exec(info.label)?.[1] ?? info.name;
    const rel = `checkpoints/${dir}/export/model.json`;
    const file = path.join(REPO_ROOT, rel);
    const now = existsSync(file) ? blobSha(readFileSync(file, "utf8")) : null;
    let measured = info.exportSha256 ?? null;
    if (measured === null && run.git.commit !== "unknown") {
      try {
        measured = blobSha(
          execFileSync("git", ["show", `${run.git.commit}:${rel}`], {
            cwd: REPO_ROOT,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
          }),
        );
      } catch {
        measured = null;
      }
    }
    out.set(info.name, { measured, now });
  }
  return out;
}

/** The model cards of `names` that exist in checkpoints/. */
function readCards(names: readonly string[]): Map<string, ModelCard> {
  const out = new Map<string, ModelCard>();
  for (const n of names) {
    const f = path.join(REPO_ROOT, "checkpoints", n, "card.json");
    if (!existsSync(f)) continue;
    const card = JSON.parse(readFileSync(f, "utf8")) as ModelCard;
    const runJson = path.join(REPO_ROOT, "checkpoints", n, "run.json");
    out.set(
      n,
      existsSync(runJson)
        ? withTeacherCheckpoint(card, JSON.parse(readFileSync(runJson, "utf8")) as TrainRunJson)
        : card,
    );
  }
  return out;
}

function paperRow(p: PaperRow, label: string): string[] {
  return [
    label,
    p.framework === "CBNN" ? "paper: CBNN" : `paper: ${p.framework}`,
    "",
    f(p.timeLanS, 3),
    "",
    "",
    f(p.timeWanS, 3),
    "",
    "",
    f(p.commMB, 3),
    "",
    "",
    "",
    f(p.accPct, 2),
  ];
}

function failures(rows: SecureRow[]): string {
  const bad = rows.filter((r) => !r.result);
  if (!bad.length) return "";
  return `\n\nFailed runs (gaps in the tables):\n\n${bad.map((r) => `- ${title(r.model)} ${r.kind} net=${r.net} msb=${r.msb} batch=${r.batch}: ${r.error}`).join("\n")}`;
}

function msbLabel(msb: string): string {
  return msb === "secure" ? "ours, secure MSB (default)" : "ours, cbnn MSB (opt-in, leaks)";
}

const TIME_TEXT =
  "Time: seconds per image at batch 1, median [min-max] over the calls of one run (first call left out as warm-up): the data owner's wall time of one secure-inference call = its per-batch offline step (input-independent material for that image) + its online step; the model setup (weights shared once per run) is not in it. 'online + offline' splits the median into the two steps (each its own median). Three processes over mutual-TLS WebSockets on loopback with the paper's shaping (LAN 0.2 ms one-way / 625 MB/s, WAN 80 ms / 40 MB/s).";
const BOUND_TEXT =
  "Bound: every round inside the timed call (online rounds + the offline rounds the data owner waits for) x one-way latency + the busiest party's bytes in the call (online + offline) / (2 x bandwidth), and measured/bound.";

function cifarNote(m: ModelsResults): string {
  const n = m.cifarLimit;
  return m.quick
    ? `CIFAR-10 accuracy and throughput runs here: the first ${Math.min(20, n ?? 20)} test images (--quick); a full run uses the first ${n ?? 1000} (--cifar-limit, default 1000), the whole test set with \`--cifar-limit 10000\`.`
    : `CIFAR-10 accuracy and throughput runs: the first ${n ?? "?"} test images (\`--cifar-limit ${n ?? "?"}\`); the whole test set is \`--cifar-limit 10000\`.`;
}

function table1(m: ModelsResults, src: ResultsFile): string {
  const head = [
    "Model",
    "Framework / MSB",
    "Weights",
    "Time LAN (s)",
    "LAN online + offline (s)",
    "LAN bound (s, ratio)",
    "Time WAN (s)",
    "WAN online + offline (s)",
    "WAN bound (s, ratio)",
    "Online MB/image",
    "Offline MB/image",
    "Model setup MB (once per run)",
    "Rounds (online + offline)",
    "Accuracy (%)",
  ];
  const rows: string[][] = [];
  for (const model of ["mnistnet1", "mnistnet2", "mnistnet3"]) {
    const info = m.models.find((x) => x.name === model);
    if (!info) {
      rows.push([title(model), "ours", `${GAP}: not benchmarked`, ...Array<string>(11).fill("")]);
    } else {
      for (const msb of ["secure", "cbnn"]) {
        const lan = find(m.secure, model, "batch1", "lan", msb);
        const wan = find(m.secure, model, "batch1", "wan", msb);
        const acc = find(m.secure, model, "accuracy", "lan", msb);
        const x = lan?.result ?? wan?.result;
        rows.push([
          title(model),
          msbLabel(msb),
          weightsNote(info),
          timeCell(lan),
          splitCell(lan),
          boundCell(lan),
          timeCell(wan),
          splitCell(wan),
          boundCell(wan),
          f(x?.onlineMBPerImage, 4),
          f(x?.offlineMBPerImage, 4),
          f(x?.modelSetupMB, 3),
          roundsCell(x),
          info.weights === "random" ? `(random) ${accCell(acc)}` : accCell(acc),
        ]);
      }
    }
    for (const p of PAPER_TABLE1.filter((r) => r.arch === model))
      rows.push(paperRow(p, title(model)));
  }
  return (
    [
      "## Table 1: MNIST (paper Table 1)",
      "",
      ranOn(src),
      "",
      TIME_TEXT,
      BOUND_TEXT,
      "Online MB/image: all parties' bytes sent in online steps per image (MB = 10^6 B). Offline MB/image: all parties' per-batch offline material per image (it grows with the images). Model setup MB: the weights P1 shares once per run (all parties; independent of the number of images). Rounds: online rounds of one call + the offline rounds the data owner waits for in it (the per-batch offline step), as counted by the transport. Accuracy: the accuracy run (batched, LAN) on the MNIST test images (all 10,000 unless --quick); '= fixed point' means every secure prediction equals the plaintext fixed-point evaluator's.",
      `Paper rows: ${PAPER_CITATION}, Table 1 (their hardware, not measured here; Comm. as printed).`,
      "",
      table(head, rows),
    ].join("\n") + failures(m.secure.filter((r) => r.model.startsWith("mnist")))
  );
}

function change(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined || a === 0) return "-";
  const c = (100 * (b - a)) / a;
  return `${c >= 0 ? "+" : ""}${c.toFixed(1)}%`;
}

/** Difference in percentage points, signed like `change` ("+0.40 pts", "-2.40 pts"). */
export function pointsChange(d: number): string {
  return `${d >= 0 ? "+" : ""}${d.toFixed(2)} pts`;
}

function table2(m: ModelsResults, src: ResultsFile): string {
  const head = [
    "Arch.",
    "Weights",
    "Time LAN (s)",
    "Time WAN (s)",
    "Comm. (MB)",
    "Offline MB/image",
    "Model setup MB (once per run)",
    "Acc. (%)",
    "Params",
  ];
  const rows: string[][] = [];
  const vals: Record<
    string,
    {
      lan?: number;
      wan?: number;
      mb?: number;
      off?: number | null;
      setup?: number | null;
      acc?: number | null;
      params?: number;
    }
  > = {};
  const ourRow = (model: string): string[] => {
    const info = m.models.find((x) => x.name === model);
    const lan = find(m.secure, model, "batch1", "lan", "secure");
    const wan = find(m.secure, model, "batch1", "wan", "secure");
    const acc = find(m.secure, model, "accuracy", "lan", "secure");
    vals[model] = {
      lan: lan?.result?.perBatch?.medianMs,
      wan: wan?.result?.perBatch?.medianMs,
      mb: (lan ?? wan)?.result?.onlineMBPerImage,
      off: (lan ?? wan)?.result?.offlineMBPerImage,
      setup: (lan ?? wan)?.result?.modelSetupMB,
      acc: acc?.result?.accuracy,
      params: info?.params,
    };
    return [
      `ours: ${title(model)}`,
      info ? weightsNote(info) : `${GAP}: not benchmarked`,
      timeCell(lan),
      timeCell(wan),
      f((lan ?? wan)?.result?.onlineMBPerImage, 3),
      f((lan ?? wan)?.result?.offlineMBPerImage, 3),
      f((lan ?? wan)?.result?.modelSetupMB, 3),
      accCell(acc),
      info ? String(info.params) : "-",
    ];
  };
  const changeRow = (label: string, from: string, to: string): string[] => {
    const a = vals[from]!;
    const b = vals[to]!;
    return [
      label,
      "",
      change(a.lan, b.lan),
      change(a.wan, b.wan),
      change(a.mb, b.mb),
      change(a.off, b.off),
      change(a.setup, b.setup),
      a.acc != null && b.acc != null ? pointsChange(100 * (b.acc - a.acc)) : "-",
      change(a.params, b.params),
    ];
  };
  // each change row sits under the pair it compares (typical -> separable), Sign first
  rows.push(ourRow("cifarnet2-typical"), ourRow("cifarnet2"));
  rows.push(changeRow("ours: change", "cifarnet2-typical", "cifarnet2"));
  for (const [typical, separable, label] of ABLATION_PAIRS) {
    const present = [typical, separable].filter((x) => benchmarked(m, x));
    rows.push(...present.map(ourRow));
    if (present.length === 2) rows.push(changeRow(label, typical, separable));
  }
  const [pt, ps] = PAPER_TABLE2 as [PaperRow, PaperRow];
  rows.push([
    `paper: Typical BNN`,
    "trained",
    f(pt.timeLanS, 3),
    f(pt.timeWanS, 3),
    f(pt.commMB, 2),
    "",
    "",
    f(pt.accPct, 2),
    String(pt.params),
  ]);
  rows.push([
    `paper: CifarNet2`,
    "trained",
    f(ps.timeLanS, 3),
    f(ps.timeWanS, 3),
    f(ps.commMB, 2),
    "",
    "",
    f(ps.accPct, 2),
    String(ps.params),
  ]);
  rows.push([
    "paper: change",
    "",
    change(pt.timeLanS, ps.timeLanS),
    change(pt.timeWanS, ps.timeWanS),
    change(pt.commMB, ps.commMB),
    "",
    "",
    pointsChange(ps.accPct - pt.accPct),
    change(pt.params, ps.params),
  ]);
  return (
    [
      "## Table 2: CifarNet2, typical vs separable convolutions (paper Table 2)",
      "",
      ranOn(src),
      "",
      "Secure MSB (default), batch 1, times median [min-max] seconds per image as in Table 1 (offline step + online step of one call). Comm.: online MB per image, all parties (the paper does not say whether its Comm. includes preprocessing); Offline MB/image and Model setup MB as in Table 1. Params: the tfjs model's weights including BN moving statistics. Change: separable relative to typical; the paper's change row is recomputed from its printed values (it prints -35.8% for Comm., its values give -34.1%).",
      ...(["cifarnet2-typical-relu", "cifarnet2-relu"].some((x) => benchmarked(m, x))
        ? [
            "ReLU (ablation) rows: the same networks with ReLU in place of Sign after every CONV (not paper networks; checkpoints/NOTES.md, Sign vs ReLU): the accuracy a user buys with more rounds and bytes. Their exports are made with `--merge-separable`, which turns each depthwise + pointwise pair into one plain convolution of the typical net's shape, so under MPC the two ReLU nets do the same work.",
          ]
        : []),
      ...(["cifarnet2-typical-relu3", "cifarnet2-relu3"].some((x) => benchmarked(m, x))
        ? [
            "ReLU after CONV 7-9 (ablation) rows: the shipped all-Sign networks with ReLU in place of Sign after the last three CONVs only, trained on from their weights (not paper networks; checkpoints/NOTES.md, ReLU in the last three layers). The separable one is exported with `--merge-separable` too.",
          ]
        : []),
      cifarNote(m),
      `Paper rows: ${PAPER_CITATION}, Table 2.`,
      "",
      table(head, rows),
    ].join("\n") + failures(m.secure.filter((r) => r.model.startsWith("cifar")))
  );
}

function table3(m: ModelsResults, src: ResultsFile): string {
  const head = ["Framework", "Time LAN (s)", "Time WAN (s)", "Comm. (MB)", "Acc. (%)"];
  const rows: string[][] = [];
  for (const p of PAPER_TABLE3)
    rows.push([
      `paper: ${p.framework}`,
      f(p.timeLanS, 3),
      f(p.timeWanS, 3),
      f(p.commMB, 3),
      f(p.accPct, 2),
    ]);
  const ourRow = (model: string, name: string): string[] => {
    const info = m.models.find((x) => x.name === model);
    const lan = find(m.secure, model, "batch1", "lan", "secure");
    const wan = find(m.secure, model, "batch1", "wan", "secure");
    return [
      `${name}, secure MSB${info ? `, ${weightsNote(info)}` : ""}`,
      timeCell(lan),
      timeCell(wan),
      f((lan ?? wan)?.result?.onlineMBPerImage, 3),
      info
        ? accCell(find(m.secure, model, "accuracy", "lan", "secure"))
        : `${GAP}: not benchmarked`,
    ];
  };
  rows.push(ourRow("cifarnet2", "ours: CifarNet2"));
  // the ReLU ablations only when they were benchmarked
  for (const [typical, separable] of ABLATION_PAIRS) {
    for (const model of [separable, typical]) {
      if (!benchmarked(m, model)) continue;
      rows.push(ourRow(model, `ours: ${title(model)}`));
    }
  }
  return [
    "## Table 3: CIFAR-10 beside prior work (paper Table 3)",
    "",
    ranOn(src),
    "",
    `Ours: as Table 2 (Comm. = online MB per image). ${cifarNote(m)}`,
    `Paper rows: ${PAPER_CITATION}, Table 3.`,
    "",
    table(head, rows),
  ].join("\n");
}

function throughput(m: ModelsResults, src: ResultsFile): string {
  const head = [
    "Model",
    "Weights",
    "Batch sizes tried (images/s)",
    "Best batch",
    "Accuracy run: images",
    "Images/s",
    "Accuracy (%)",
  ];
  const rows: string[][] = [];
  for (const info of m.models) {
    const tried = m.secure.filter((r) => r.model === info.name && r.kind === "throughput");
    const acc = m.secure.filter(
      (r) => r.model === info.name && r.kind === "accuracy" && r.msb === "secure",
    )[0];
    rows.push([
      title(info.name),
      weightsNote(info),
      tried.length
        ? tried.map((r) => `${r.batch}: ${f(r.result?.imagesPerSec, 1)}`).join(", ")
        : "one size only (--quick)",
      acc ? String(acc.batch) : "-",
      acc?.result ? String(acc.result.count) : "-",
      f(acc?.result?.imagesPerSec, 1),
      accCell(acc),
    ]);
  }
  return [
    "## Throughput (secure MSB, LAN shaping)",
    "",
    ranOn(src),
    "",
    "Images per second = images / the data owner's wall time from the first batch to the last logits (every batch's offline and online steps included; the once-per-run model setup not). Batch sizes are tried on 3 batches each; the best runs the accuracy set: MNIST the full test set (10,000 images; the first 200 with --quick).",
    cifarNote(m),
    "",
    table(head, rows),
  ].join("\n");
}

function costOfSecurity(m: ModelsResults, src: ResultsFile): string {
  const head = [
    "Model",
    "Secure LAN batch 1 (ms)",
    "Fixed point batch 1 (ms)",
    "tfjs float batch 1 (ms)",
    "secure / fixed",
    "secure / float",
    "Secure batched (ms/img)",
    "Fixed batched (ms/img)",
    "Float batched (ms/img)",
    "secure / fixed (batched)",
  ];
  const rows: string[][] = [];
  for (const p of m.plain as PlainRow[]) {
    const lan = find(m.secure, p.model, "batch1", "lan", "secure")?.result?.perBatch;
    const acc = find(m.secure, p.model, "accuracy", "lan", "secure")?.result;
    const secBatched = acc ? 1000 / acc.imagesPerSec : null;
    const fixB = p.fixedBatch.medianMs / p.batch;
    const fltB = p.floatBatch.medianMs / p.batch;
    rows.push([
      title(p.model),
      ms(lan),
      ms(p.fixedBatch1, 3),
      ms(p.floatBatch1, 3),
      lan ? `${f(lan.medianMs / p.fixedBatch1.medianMs, 0)}x` : "-",
      lan ? `${f(lan.medianMs / p.floatBatch1.medianMs, 1)}x` : "-",
      f(secBatched, 2),
      f(fixB, 3),
      f(fltB, 3),
      secBatched !== null ? `${f(secBatched / fixB, 0)}x` : "-",
    ]);
  }
  return [
    "## Cost of security",
    "",
    ranOn(src),
    "",
    `Same run: secure (three processes, LAN shaping, secure MSB) vs the plaintext fixed-point reference evaluator (\`evaluateFixed\`, one thread, same integers) vs the tfjs float model (\`predict\`, ${m.tfBackend} backend). Batch 1: median [min-max] ms per call. Batched: the accuracy run's batch size; secure from its images/s.`,
    "",
    table(head, rows),
  ].join("\n");
}

function bounds(m: ModelsResults, src: ResultsFile): string {
  const head = [
    "Model",
    "Run",
    "Net",
    "MSB",
    "Batch",
    "Online rounds",
    "Offline rounds",
    "Busiest party MB / call (online + offline)",
    "Bound (ms)",
    "Measured median (ms)",
    "Measured / bound",
  ];
  const rows = m.secure
    .filter((r) => r.result?.bound)
    .map((r) => [
      title(r.model),
      r.kind,
      r.net,
      r.msb,
      String(r.batch),
      String(r.result!.roundsPerBatch),
      r.result!.offlineRoundsPerBatch === null ? "?" : String(r.result!.offlineRoundsPerBatch),
      f((r.result!.maxPartyBytesPerBatch ?? r.result!.maxPartyOnlineBytesPerBatch) / 1e6, 4),
      f(r.result!.bound!.ms, 1),
      f(r.result!.perBatch?.medianMs, 1),
      f(r.result!.bound!.ratio, 2),
    ]);
  return [
    "## Lower bounds under shaping",
    "",
    ranOn(src),
    "",
    "Bound per secure call = (online rounds + the offline rounds the data owner waits for in the call's offline step) x one-way latency + (bytes the busiest party sends in the call, online + offline) / (2 links x bandwidth): no schedule over the shaped links can be faster. Both steps are inside the timed interval (Time in Tables 1-3 is offline + online), so both count: with online rounds alone (the bound before commit 333a72f) the cbnn MSB looked 1.5x its bound under WAN, because its per-batch offline material (beta by a b2a, then (1-2 beta) r by a multiplication, per sign layer) costs the data owner more latencies per call (the Offline rounds column); the secure MSB's offline daBits are a message the data owner only sends, 0 rounds it waits for. Rounds are causal depth at the data owner (transport counters). The rest of the measured time is computation (all three parties share this machine's cores) and shaper timer lateness. Medians over the calls of a run with the first call left out as warm-up (a run of 2 calls has 1 sample).",
    "",
    table(head, rows),
  ].join("\n");
}

function protocolTables(p: ProtocolsResults): string[] {
  const b = p.protocols;
  if (!b?.protocols) {
    return [
      "**Gap:** this protocols.json predates structured `benchProtocols` results; re-run `pnpm bench protocols`.",
    ];
  }
  const bytes = (xs: number[]) => xs.join(" / ");
  const kb = (xs: number[]) => (xs.reduce((a, c) => a + c, 0) / 1000).toFixed(2);
  return [
    `Per-protocol time, rounds and bytes on ${b.n} values, all three parties in one process over the in-memory transport (\`benchProtocols\`): ms per call median [min-max] over ${b.repeats} repeats; rounds and bytes counted by the transport. The cbnn MSB row includes its preprocessing.`,
    "",
    table(
      ["Protocol", "Values", "Time (ms)", "Rounds", "Bytes sent P0 / P1 / P2"],
      b.protocols.map((r) => [
        r.protocol,
        String(r.n),
        `${r.medianMs.toFixed(1)} [${r.minMs.toFixed(1)}-${r.maxMs.toFixed(1)}]`,
        String(r.rounds),
        bytes(r.bytesSent),
      ]),
    ),
    "",
    `MnistNet1 (784-128-128-10, Sign; random integer weights in [-32, 32), proven outBoundBits ${b.mnistNet1.outBoundBits.join(", ")}) at batch 1, memory transport: KB = 1000 bytes sent, all parties (P0 / P1 / P2 bytes).`,
    "",
    table(
      [
        "MSB variant",
        "Online rounds",
        "Online KB (P0 / P1 / P2 B)",
        "Model setup KB, once per run",
        "Offline KB, per batch (this image)",
      ],
      b.mnistNet1.rows.map((r) => [
        r.variant,
        String(r.onlineRounds),
        `${kb(r.onlineBytes)} (${bytes(r.onlineBytes)})`,
        kb(r.modelSetupBytes),
        `${kb(r.offlineBytes)} (${bytes(r.offlineBytes)})`,
      ]),
    ),
  ];
}

function protocols(p: ProtocolsResults, src: ResultsFile): string {
  const g = p.gemm;
  const gemmRows = g.cases.map((c) => [
    c.name,
    c.shape,
    `${c.fast.medianMs.toFixed(3)} [${c.fast.minMs.toFixed(3)}-${c.fast.maxMs.toFixed(3)}]`,
    c.fast.gmacPerSec.toFixed(2),
    c.naive
      ? `${c.naive.medianMs.toFixed(3)} [${c.naive.minMs.toFixed(3)}-${c.naive.maxMs.toFixed(3)}]`
      : "-",
    c.naive ? c.naive.gmacPerSec.toFixed(2) : "-",
    c.speedup !== undefined ? `${c.speedup.toFixed(1)}x` : "-",
  ]);
  const shapingRows = p.shaping.map((r) => [
    r.net,
    `${r.latencyMs} ms`,
    `${r.bandwidthMBps} MB/s`,
    `${r.bytes} B`,
    r.expectedRttMs.toFixed(3),
    r.measuredRttMs.toFixed(3),
    r.baseRttMs.toFixed(3),
    `${r.errorMs >= 0 ? "+" : ""}${r.errorMs.toFixed(3)}`,
  ]);
  return [
    "## Protocols, ring kernels, shaping",
    "",
    ranOn(src),
    "",
    ...protocolTables(p),
    "",
    `Ring Z_2^32 kernels, one core (default GEMM kernel: ${g.kernel}); ms per call median [min-max], GMAC/s at the median:`,
    "",
    table(
      ["Case", "Shape", "Fast (ms)", "Fast GMAC/s", "Naive (ms)", "Naive GMAC/s", "Speedup"],
      gemmRows,
    ),
    "",
    "Shaping check: ping-pong over one shaped mutual-TLS link on loopback (latency is one-way; expected RTT = 2 x (latency + bytes / bandwidth); excess = measured - unshaped - expected), ms:",
    "",
    table(
      [
        "Net",
        "Latency",
        "Bandwidth",
        "Payload",
        "Expected RTT",
        "Measured RTT",
        "Unshaped RTT",
        "Excess",
      ],
      shapingRows,
    ),
  ].join("\n");
}

function training(t: TrainingResults, src: ResultsFile): string {
  const rows = t.cases.map((c) => [
    c.model,
    String(c.width),
    c.role,
    c.loss,
    String(c.batch),
    String(c.params),
    ms(c.step, 1),
    f(c.imagesPerSec, 1),
    `${f(c.epochS / 60, 1)} min (${c.epochImages} images)`,
  ]);
  return [
    "## Training speed",
    "",
    ranOn(src),
    "",
    `tfjs ${t.backend} backend, one thread. Step = forward (training mode) + gradients + Adam update on random inputs; median [min-max] over a few steps after one warm-up. Epoch time is extrapolated: floor(images / batch) x median step.`,
    "",
    table(
      [
        "Model",
        "Width",
        "Role",
        "Loss",
        "Batch",
        "Params",
        "ms / step",
        "Images/s",
        "Epoch (extrapolated)",
      ],
      rows,
    ),
    ...(t.parallel?.length
      ? [
          "",
          "Data parallelism (`pnpm train --workers 2`): wall time of the gradients of one batch on this thread vs split over two worker threads (one wasm instance each; weights out, shards in, gradients back and averaged), alternated step by step in the same run, median. The ratio needs two idle cores: under other load it falls toward or below 1.",
          "",
          table(
            ["Model", "Batch", "One thread (ms)", "2 workers (ms)", "Ratio"],
            t.parallel.map((p) => [
              p.label,
              String(p.batch),
              f(p.singleMs, 0),
              f(p.parallelMs, 0),
              `${p.speedup.toFixed(2)}x`,
            ]),
          ),
        ]
      : []),
  ].join("\n");
}

function backend(b: ResultsFile): string {
  const step = (b.step ?? {}) as Record<string, TimingStats>;
  const rows = Object.entries(step).map(([k, v]) => [k, ms(v, 1)]);
  const ratio = typeof b.ratioCpuOverBackend === "number" ? b.ratioCpuOverBackend.toFixed(1) : "-";
  return [
    "## Training backend (wasm vs cpu)",
    "",
    ranOn(b),
    "",
    `Small convnet training step (see docs/backend.md), ms median [min-max]; cpu / ${String(b.backend)} = ${ratio}x.`,
    "",
    table(["Backend", "ms / step"], rows),
  ].join("\n");
}

function figures(figs: Figure[]): string {
  const out = ["## Figures (paper Fig. 5a, 6a, 6b)", ""];
  for (const g of figs) {
    out.push(`### ${g.title}`, "");
    if (g.png) {
      out.push(
        `![${g.title}](${path.posix.relative("docs", g.png.split(path.sep).join("/"))})`,
        "",
      );
      out.push(`From ${g.sources.join(", ")}; ${g.note}.`, "");
    } else {
      out.push(`**Gap:** ${g.note}.`, "");
    }
  }
  return out.join("\n");
}

export interface ReportInput {
  results: Record<string, ResultsFile>;
  figures: Figure[];
  /** Model cards of the trained models (checkpoints/<name>/card.json), by model name. */
  cards?: ReadonlyMap<string, ModelCard>;
  /** Measured vs shipped export of each trained model, by model name: a difference is flagged. */
  exports?: ReadonlyMap<string, ExportShas>;
  /**
   * The smoke-run report (bench/results-quick/RESULTS.md): its sources are
   * bench/results-quick/*.json, and it has no figures (they do not depend on
   * the bench runs; docs/RESULTS.md has them).
   */
  quick?: boolean;
}

/** The markdown of docs/RESULTS.md (with `quick`, of bench/results-quick/RESULTS.md) for the results present; missing suites are listed as gaps. */
export function renderReport({
  results,
  figures: figs,
  cards,
  exports = new Map(),
  quick: smoke,
}: ReportInput): string {
  const dir = smoke ? "bench/results-quick" : "bench/results";
  const q = smoke ? " --quick" : "";
  const parts: string[] = [
    smoke ? "# Results of smoke runs (--quick)" : "# Results",
    "",
    `Generated by \`pnpm bench${q}\` from \`${dir}/*.json\` (re-render: \`pnpm bench report${q}\`). Do not edit by hand; see docs/benchmarks.md for what each suite measures and how.`,
    ...(smoke
      ? [
          "",
          "Smoke runs write here, beside their results, and are ignored by git: the committed numbers of the full runs (bench/results, docs/RESULTS.md) stay as they are.",
        ]
      : []),
    "",
    "Runs behind this page:",
    "",
    ...Object.values(results).map((r) => `- \`${r.suite}\`: ${runLine(r)}`),
  ];
  const quick = Object.values(results)
    .filter((r) => r.quick)
    .map((r) => r.suite);
  if (quick.length) {
    parts.push(
      "",
      `**Smoke-run numbers:** ${quick.join(", ")} ran with \`--quick\` (few images, few repeats, small accuracy sets)${smoke ? "; the full runs' numbers are in docs/RESULTS.md." : "; a full run of the suite replaces them."}`,
    );
  }
  const models = results.models as (ResultsFile & ModelsResults) | undefined;
  if (models) {
    const random = models.models.filter((x) => x.weights === "random");
    if (random.length) {
      parts.push(
        "",
        `**Random weights (cost only):** ${random.map((x) => `${title(x.name)} (${x.gap})`).join("; ")}. These exports have the zoo networks' exact shapes with seeded random weights: time, rounds and bytes do not depend on the weights, accuracy does (about 10 %, meaningless).`,
      );
    }
    const note = trainedModelsNote(models.models, cards ?? new Map(), exports);
    if (note) parts.push("", note);
    parts.push(
      "",
      table1(models, models),
      "",
      table2(models, models),
      "",
      table3(models, models),
      "",
      throughput(models, models),
      "",
      costOfSecurity(models, models),
      "",
      bounds(models, models),
    );
  } else {
    parts.push(
      "",
      "## Tables 1-3, throughput, cost of security",
      "",
      `**Gap:** no \`${dir}/models.json\` (run \`pnpm bench models${q}\`).`,
    );
  }
  const prot = results.protocols as (ResultsFile & ProtocolsResults) | undefined;
  parts.push(
    "",
    prot
      ? protocols(prot, prot)
      : `## Protocols\n\n**Gap:** no \`${dir}/protocols.json\` (run \`pnpm bench protocols${q}\`).`,
  );
  const tr = results.training as (ResultsFile & TrainingResults) | undefined;
  parts.push(
    "",
    tr
      ? training(tr, tr)
      : `## Training speed\n\n**Gap:** no \`${dir}/training.json\` (run \`pnpm bench training${q}\`).`,
  );
  if (results.backend) parts.push("", backend(results.backend));
  parts.push(
    "",
    smoke
      ? "## Figures\n\nNot rendered for smoke runs: they come from the training runs, not from the bench; see docs/RESULTS.md."
      : figures(figs),
  );
  return `${parts.join("\n")}\n`;
}

/**
 * Reads every results file, renders the figures that have inputs, writes
 * docs/RESULTS.md; with `quick`, reads bench/results-quick and writes
 * bench/results-quick/RESULTS.md (no figures).
 */
export async function writeReport(opts: { quick?: boolean } = {}): Promise<string> {
  const quick = opts.quick ?? false;
  let figs: Figure[] = [];
  if (!quick) {
    const { renderFigures } = await import("./figures");
    figs = await renderFigures();
  }
  const results = readAllResults(resultsDirFor(quick));
  const models = results.models as (ResultsFile & ModelsResults) | undefined;
  const cards = readCards(models ? models.models.map((x) => x.name) : []);
  const exports = models ? exportShas(models) : new Map<string, ExportShas>();
  const file = quick ? QUICK_RESULTS_MD : RESULTS_MD;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, renderReport({ results, figures: figs, cards, exports, quick }));
  return file;
}
