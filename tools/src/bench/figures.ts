/**
 * Figures for docs/RESULTS.md from training outputs, when they exist:
 * accuracy vs lambda (paper Fig. 6a) from `pnpm sweep`'s sweep.json, and KD
 * vs no-KD validation curves (Fig. 5a MNIST, Fig. 6b CIFAR-10) from the
 * history.json of a distilled run and a plain run of the same student.
 * Searched in checkpoints/ first (shipped, so a reader of RESULTS.md has the
 * inputs), then runs/; PNGs go to bench/figures/.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import {
  historyChart,
  lineChartSvg,
  loadHistory,
  loadModelConfig,
  plotSweep,
  renderPng,
  type SweepRow,
} from "@cbnn/training";
import { REPO_ROOT } from "./env";

export const FIGURES_DIR = path.join(REPO_ROOT, "bench", "figures");

/** Where figure inputs are looked for, in this order: shipped runs first, then local ones. */
const SEARCH_ROOTS = ["checkpoints", "runs"] as const;

export interface Figure {
  id: "fig6a" | "fig5a" | "fig6b";
  title: string;
  /** PNG path relative to the repository root; null when the inputs do not exist (a gap). */
  png: string | null;
  /** Inputs used, relative to the repository root. */
  sources: string[];
  note: string;
}

export interface RunInfo {
  dir: string;
  model: string;
  dataset: string;
  kd: boolean;
  /** Epochs of the run's schedule (run.json hyper.epochs); null when unknown. */
  epochs: number | null;
  augment: boolean;
  /**
   * How the weights were trained, KD aside: the runs its --init chain went through, oldest
   * first, then this run. null when a run started from weights of unknown origin (--init
   * of a run recorded before run.json kept its source run), which makes it comparable to none.
   */
  stages: Stage[] | null;
  /** Found in checkpoints/ (shipped with the repository) rather than runs/. */
  shipped?: boolean;
}

/** One run of a training chain, as far as a like-for-like comparison cares. */
export interface Stage {
  epochs: number | null;
  augment: boolean;
  lr: number | null;
  lrSchedule: string | null;
  batch: number | null;
  /** AdamW weight decay (0 when run.json records none). */
  weightDecay: number;
  /** The Sign's backward pass ("ste" when run.json records none). */
  signGrad: string;
  /** Trained with the maxpool before the activation (`--pool-first`; false when run.json records none). */
  poolFirst: boolean;
}

export interface KdPair {
  /**
   * The KD runs drawn: every KD run with the no-KD run's recipe when the pair is like for
   * like (several when the student was distilled alike from more than one teacher), else
   * the first KD run found.
   */
  kds: RunInfo[];
  plain: RunInfo;
  /** The same training chain (epochs, augmentation, learning rate, batch of every stage). */
  likeForLike: boolean;
}

const sameStages = (a: Stage[] | null, b: Stage[] | null): boolean =>
  a !== null &&
  b !== null &&
  a.every((st) => st.epochs !== null) &&
  JSON.stringify(a) === JSON.stringify(b);

/**
 * The KD runs and the no-KD runs of one student to draw side by side: every like-for-like
 * group (a no-KD run and all KD runs with its recipe at every stage: both from scratch, or
 * both continued alike; e.g. one group per optimiser), only the shipped groups when there
 * are any (so local runs/ never mix into the figure of the shipped runs); else the first
 * KD and first no-KD run found (flagged, so the figure's note can say so); empty when the
 * student lacks either kind of run.
 */
export function pickKdPairs(runs: readonly RunInfo[], model: string): KdPair[] {
  const kds = runs.filter((r) => r.model === model && r.kd);
  const plains = runs.filter((r) => r.model === model && !r.kd);
  const pairs: KdPair[] = [];
  for (const plain of plains) {
    const alike = kds.filter((kd) => sameStages(kd.stages, plain.stages));
    if (alike.length > 0) pairs.push({ kds: alike, plain, likeForLike: true });
  }
  // a shipped group keeps its shipped KD runs only: a local run of the same recipe (another
  // seed, say) is like for like too, but not part of the shipped figure
  const shipped = pairs.flatMap((p) => {
    const kdsShipped = p.kds.filter((k) => k.shipped);
    return p.plain.shipped && kdsShipped.length > 0 ? [{ ...p, kds: kdsShipped }] : [];
  });
  if (shipped.length > 0) return shipped;
  if (pairs.length > 0) return pairs;
  const kd = kds[0];
  const plain = plains[0];
  return kd && plain ? [{ kds: [kd], plain, likeForLike: false }] : [];
}

function describeRun(r: RunInfo): string {
  const parts = [r.epochs === null ? "? epochs" : `${r.epochs} epochs`];
  parts.push(r.augment ? "augmented" : "no augmentation");
  const grads = [...new Set((r.stages ?? []).map((st) => st.signGrad))].filter((g) => g !== "ste");
  if (grads.length > 0) parts.push(`Sign gradient ${grads.join("/")}`);
  if ((r.stages ?? []).some((st) => st.poolFirst))
    parts.push("maxpool before the activation in training");
  const first = r.stages?.[0];
  if (r.stages === null) parts.push("continued from weights of unknown origin");
  else if (r.stages.length > 1 && first)
    parts.push(`continued from a ${first.epochs ?? "?"}-epoch run`);
  return parts.join(", ");
}

interface RunJsonLike {
  model?: string;
  dataset?: string;
  kd?: { lambda?: unknown } | null;
  augment?: unknown;
  init?: { run?: RunJsonLike; epochs?: unknown } | null;
  hyper?: {
    epochs?: unknown;
    lr?: unknown;
    lrSchedule?: unknown;
    batchSize?: unknown;
    weightDecay?: unknown;
    signGrad?: unknown;
    poolFirst?: unknown;
  };
}

const num = (x: unknown): number | null => (typeof x === "number" ? x : null);

/**
 * The training chain of a run.json (see RunInfo.stages): the recipe of each stage, not
 * where the best-by-validation checkpoint it handed on happened to fall.
 */
export function runStages(run: RunJsonLike): Stage[] | null {
  const parent = run.init ? (run.init.run ? runStages(run.init.run) : null) : [];
  if (parent === null) return null;
  return [
    ...parent,
    {
      epochs: num(run.hyper?.epochs),
      augment: run.augment === true,
      lr: num(run.hyper?.lr),
      lrSchedule: typeof run.hyper?.lrSchedule === "string" ? run.hyper.lrSchedule : null,
      batch: num(run.hyper?.batchSize),
      weightDecay: num(run.hyper?.weightDecay) ?? 0,
      signGrad: typeof run.hyper?.signGrad === "string" ? run.hyper.signGrad : "ste",
      poolFirst: run.hyper?.poolFirst === true,
    },
  ];
}

function runDirs(): RunInfo[] {
  const out: RunInfo[] = [];
  // A shipped run is a copy of its runs/ directory: list each run.json once (checkpoints/ first).
  const seen = new Set<string>();
  for (const root of SEARCH_ROOTS) {
    const base = path.join(REPO_ROOT, root);
    if (!existsSync(base)) continue;
    for (const d of readdirSync(base, { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      const dir = path.join(base, d.name);
      const runJson = path.join(dir, "run.json");
      if (!existsSync(runJson) || !existsSync(path.join(dir, "history.json"))) continue;
      try {
        const text = readFileSync(runJson, "utf8");
        if (seen.has(text)) continue;
        seen.add(text);
        const run = JSON.parse(text) as RunJsonLike;
        if (typeof run.model !== "string") continue;
        out.push({
          dir,
          model: run.model,
          dataset: run.dataset ?? "?",
          // lambda 1 weights the soft term by 0: a plain run, whatever teacher it names.
          kd: run.kd != null && run.kd.lambda !== 1,
          epochs: typeof run.hyper?.epochs === "number" ? run.hyper.epochs : null,
          augment: run.augment === true,
          stages: runStages(run),
          shipped: root === "checkpoints",
        });
      } catch {
        // not a run directory we can read: skip it
      }
    }
  }
  return out;
}

function sweepFiles(): string[] {
  const out: string[] = [];
  for (const root of SEARCH_ROOTS) {
    const base = path.join(REPO_ROOT, root);
    if (!existsSync(base)) continue;
    for (const d of readdirSync(base, { withFileTypes: true })) {
      const f = path.join(base, d.name, "sweep.json");
      if (d.isDirectory() && existsSync(f)) out.push(f);
    }
  }
  return out;
}

const rel = (p: string) => path.relative(REPO_ROOT, p);

async function kdFigure(
  id: "fig5a" | "fig6b",
  dataset: string,
  students: string[],
  runs: RunInfo[],
): Promise<Figure> {
  const title = `KD vs no KD, validation accuracy per epoch (${dataset}; paper Fig. ${id === "fig5a" ? "5a" : "6b"})`;
  const chosen: RunInfo[] = [];
  const mismatched: string[] = [];
  for (const m of students) {
    for (const pair of pickKdPairs(runs, m)) {
      chosen.push(...pair.kds, pair.plain);
      if (!pair.likeForLike) {
        mismatched.push(
          `${m} (KD: ${describeRun(pair.kds[0])}; no KD: ${describeRun(pair.plain)})`,
        );
      }
    }
  }
  if (chosen.length === 0) {
    return {
      id,
      title,
      png: null,
      sources: [],
      note: `no pair of a KD run and a no-KD run of ${students.join("/")} with history.json in checkpoints/ or runs/`,
    };
  }
  const png = path.join(FIGURES_DIR, `${id}-kd-vs-plain-${dataset}.png`);
  await renderPng(
    lineChartSvg(
      historyChart(
        chosen.map((r) => loadHistory(r.dir)),
        "valAcc",
        title,
      ),
    ),
    png,
  );
  return {
    id,
    title,
    png: rel(png),
    sources: chosen.map((r) => rel(r.dir)),
    note:
      "solid: KD, dashed: no KD (labels from run.json; [folder] tells apart runs whose labels tie, e.g. two teachers of one architecture)" +
      (mismatched.length === 0
        ? `; each KD run has the recipe of the no-KD run drawn beside it (epochs, augmentation, learning rate, batch, weight decay, Sign gradient, max-pool order${
            chosen.some((r) => (r.stages?.length ?? 0) > 1)
              ? "; a continued run's curve starts where its --init weights left off"
              : ""
          })`
        : `. **Not like for like:** ${mismatched.join("; ")}, so the gap between the curves' ends is not all KD's`),
  };
}

/** Renders every figure whose inputs exist; the rest are returned as gaps. */
export async function renderFigures(): Promise<Figure[]> {
  const figs: Figure[] = [];
  const sweeps = sweepFiles();
  const title6a = "Accuracy vs KD weight lambda (paper Fig. 6a)";
  if (sweeps.length === 0) {
    figs.push({
      id: "fig6a",
      title: title6a,
      png: null,
      sources: [],
      note: "no sweep.json (pnpm sweep) in checkpoints/ or runs/",
    });
  } else {
    // The paper's Fig. 6a is CIFAR-10 (CifarNet2): prefer a CIFAR-10 sweep.
    const read = sweeps.map((f) => {
      const data = JSON.parse(readFileSync(f, "utf8")) as {
        model?: string;
        teacher?: string;
        T?: number;
        rows?: SweepRow[];
      };
      if (!Array.isArray(data.rows)) throw new Error(`${f}: field "rows" missing`);
      let dataset = "?";
      try {
        if (data.model) dataset = loadModelConfig(data.model).dataset;
      } catch {
        // unknown model name: dataset stays "?"
      }
      return { f, data, dataset, rows: data.rows };
    });
    const pick = read.find((r) => r.dataset === "cifar10") ?? read[0]!;
    const { f, data } = pick;
    const png = path.join(FIGURES_DIR, "fig6a-accuracy-vs-lambda.png");
    await plotSweep(
      pick.rows,
      png,
      `${data.model ?? "?"} (${pick.dataset}) distilled from ${path.basename(data.teacher ?? "?")}, T=${data.T ?? "?"}`,
    );
    figs.push({
      id: "fig6a",
      title: title6a,
      png: rel(png),
      sources: [rel(f)],
      note:
        `${pick.rows.length} lambda values, ${data.model ?? "?"} on ${pick.dataset}, float test accuracy of each run's best-by-validation checkpoint` +
        (pick.dataset === "cifar10"
          ? ""
          : ". **Gap:** the paper's Fig. 6a is CIFAR-10 (CifarNet2); no CIFAR-10 sweep has been run yet"),
    });
  }
  const runs = runDirs();
  figs.push(await kdFigure("fig5a", "mnist", ["mnistnet1", "mnistnet2", "mnistnet3"], runs));
  figs.push(await kdFigure("fig6b", "cifar10", ["cifarnet2", "cifarnet2-typical"], runs));
  return figs;
}
