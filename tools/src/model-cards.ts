/**
 * Model cards for the models that ship in checkpoints/: for each
 * `checkpoints/<name>/` (a run directory written by `pnpm train` and shipped
 * by tools/scripts/ship-checkpoint.sh, with its export in `export/`), measure
 * float and fixed-point accuracy on the full test set, and write
 * `checkpoints/<name>/card.json` and the human-readable
 * `checkpoints/README.md`. Every number in a card is measured by this tool or
 * read from the run's own records (history.json, run.json).
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_FRAC_BITS, DEFAULT_PRESIGN_BITS } from "@cbnn/shared";
import {
  countParams,
  evaluateCheckpoint,
  evaluateExport,
  initBackend,
  loadTrainedModel,
  type TrainInit,
  type TrainRunJson,
} from "@cbnn/training";

export const REPO_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
export const CHECKPOINTS_DIR = join(REPO_ROOT, "checkpoints");

export interface ModelCard {
  name: string;
  model: string;
  role: "teacher" | "student";
  dataset: string;
  width: number;
  params: number;
  kd: { teacher: string; lambda: number; T: number; t2Scaling: boolean } | null;
  /** Epochs of this run (a continued run: the epochs after its --init weights). */
  epochs: number;
  bestEpoch: number;
  /** Epochs the --init weights already held (0 or absent: trained from scratch). */
  initEpochs?: number;
  /** The same epochs per earlier stage, oldest first, when the --init chain records them. */
  initStages?: number[];
  /** Sum of the per-epoch wall times in history.json (and of the --init weights' run), seconds. */
  trainSeconds: number;
  backend: string;
  seed: number;
  floatTestAcc: number;
  /** null for a model shipped without an export (a teacher: never run securely). */
  fixedTestAcc: number | null;
  /** Fraction of test images where the fixed-point and float argmax agree; null without an export. */
  argmaxAgreement: number | null;
  testCount: number;
  /** null without an export. */
  fracBits: number | null;
  command: string;
  /** `pnpm export` flags the shipped export was made with (from its model.json source). */
  exportFlags?: string;
  evaluatedAt: string;
}

interface HistoryRow {
  epoch: number;
  valAcc: number;
  seconds: number;
  /** gradient worker threads of the epoch (`--workers`); absent = 1 */
  workers?: number;
}

/**
 * The card's backend cell: the backend, and which epochs ran on gradient worker threads
 * (`pnpm train --workers`), since that changes the wall time (and batch norm's shards):
 * "wasm; epochs 10-30 on 2 worker threads".
 */
export function backendCell(backend: string, history: HistoryRow[]): string {
  const spans: { workers: number; from: number; to: number }[] = [];
  for (const r of history) {
    const w = r.workers ?? 1;
    const last = spans[spans.length - 1];
    if (last && last.workers === w && last.to === r.epoch - 1) last.to = r.epoch;
    else spans.push({ workers: w, from: r.epoch, to: r.epoch });
  }
  const parallel = spans.filter((sp) => sp.workers > 1);
  if (parallel.length === 0) return backend;
  if (spans.length === 1) return `${backend}, ${parallel[0]!.workers} worker threads`;
  const range = (sp: { from: number; to: number }) =>
    sp.from === sp.to ? `epoch ${sp.from}` : `epochs ${sp.from}-${sp.to}`;
  return `${backend}; ${parallel.map((sp) => `${range(sp)} on ${sp.workers} worker threads`).join(", ")}`;
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}

/** Sorted names of the directories of `dir` that hold every one of `files`. */
function dirsWith(dir: string, files: string[][]): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && files.every((f) => existsSync(join(dir, d.name, ...f))))
    .map((d) => d.name)
    .sort();
}

/** Names of shipped models: directories of checkpoints/ with run.json and export/model.json. */
export function shippedModels(dir = CHECKPOINTS_DIR): string[] {
  return dirsWith(dir, [["run.json"], ["export", "model.json"]]);
}

/**
 * Every model that gets a card: directories of checkpoints/ with run.json and
 * latest.json (a finished run), with or without an export. A teacher ships
 * without one (it is never run securely): its card has the float accuracy only.
 */
export function cardedModels(dir = CHECKPOINTS_DIR): string[] {
  return dirsWith(dir, [["run.json"], ["latest.json"]]);
}

const hasExport = (runDir: string): boolean => existsSync(join(runDir, "export", "model.json"));

/** The run directory of a teacher checkpoint path recorded in run.json (its ckpt-e* folder dropped). */
const teacherRunDir = (checkpoint: string): string => checkpoint.replace(/\/ckpt-e\d+$/, "");

/** The `pnpm train` command that reproduces a run, from what run.json recorded. */
export function reproduceCommand(run: TrainRunJson, out: string): string {
  const h = run.hyper;
  const parts = ["pnpm train", `--model ${run.model}`];
  if (run.teacher) {
    const t = run.teacher.checkpoint;
    const teacher = t.startsWith(REPO_ROOT) ? teacherRunDir(displayPath(t)) : t;
    parts.push(`--teacher ${teacher}`);
  }
  if (run.kd) {
    parts.push(`--lambda ${run.kd.lambda}`, `--T ${run.kd.T}`);
    if (run.kd.t2Scaling) parts.push("--t2-scaling");
  } else if (run.modelConfig.role === "student") {
    parts.push("--lambda 1");
  }
  if (run.width !== 1) parts.push(`--width ${run.width}`);
  parts.push(`--epochs ${h.epochs}`, `--batch ${h.batchSize}`);
  if (h.microBatch !== h.batchSize) parts.push(`--micro-batch ${h.microBatch}`);
  parts.push(`--lr ${h.lr}`, `--lr-schedule ${h.lrSchedule}`);
  if (h.weightDecay) parts.push(`--weight-decay ${h.weightDecay}`);
  if (h.signGrad && h.signGrad !== "ste") parts.push(`--sign-grad ${h.signGrad}`);
  if (h.ema) parts.push(`--ema ${h.ema}`);
  if (h.poolFirst) parts.push("--pool-first");
  parts.push(`--seed ${h.seed}`);
  const augmentDefault = run.dataset === "cifar10";
  if (run.augment !== augmentDefault) parts.push(run.augment ? "--augment" : "--no-augment");
  if (run.limit !== null) parts.push(`--limit ${run.limit}`);
  const parent = run.init?.run;
  if (parent) parts.push(`--init ${out}-init`);
  else if (run.init) parts.push(`--init ${displayPath(run.init.checkpoint)}`);
  parts.push(`--out ${out}`);
  // a continued run is reproduced by re-running the run it started from first
  return parent
    ? `${reproduceCommand(parent, `${out}-init`)}, then ${parts.join(" ")}`
    : parts.join(" ");
}

/** A path as the reproduce command shows it: relative to the repository when inside it. */
function displayPath(p: string): string {
  return p.startsWith(REPO_ROOT) ? relative(REPO_ROOT, p) : p;
}

/**
 * The `pnpm export` flags an export was made with, from what its model.json
 * `source` records (fracBits, presignBits, mergeSeparable); "" for defaults.
 * Exports older than the presignBits field record no cap and get no flag.
 */
export function exportFlags(source: Record<string, unknown>): string {
  const flags: string[] = [];
  if (typeof source.fracBits === "number" && source.fracBits !== DEFAULT_FRAC_BITS) {
    flags.push(`--frac-bits ${source.fracBits}`);
  }
  if (source.presignBits === null) flags.push("--presign-bits none");
  else if (typeof source.presignBits === "number" && source.presignBits !== DEFAULT_PRESIGN_BITS) {
    flags.push(`--presign-bits ${source.presignBits}`);
  }
  if (source.mergeSeparable === true) flags.push("--merge-separable");
  return flags.join(" ");
}

function exportSource(dir: string): Record<string, unknown> {
  if (!hasExport(dir)) return {};
  return readJson<{ source: Record<string, unknown> }>(join(dir, "export", "model.json")).source;
}

/** Measures one shipped model and returns its card (full test set). */
export async function measureCard(name: string, dir = CHECKPOINTS_DIR): Promise<ModelCard> {
  const runDir = join(dir, name);
  const run = readJson<TrainRunJson>(join(runDir, "run.json"));
  const history = readJson<HistoryRow[]>(join(runDir, "history.json"));
  const latest = readJson<{ best: string; epoch: number }>(join(runDir, "latest.json"));
  const { tf } = await initBackend({ log: () => {} });
  const trained = loadTrainedModel(tf, runDir, "best");
  const params = countParams(trained.model);
  trained.model.dispose();
  const exportDir = join(runDir, "export");
  let acc: Pick<
    ModelCard,
    "floatTestAcc" | "fixedTestAcc" | "argmaxAgreement" | "testCount" | "fracBits"
  >;
  if (hasExport(runDir)) {
    const fixed = await evaluateExport(exportDir);
    if (!fixed.float) throw new Error(`${name}: ${fixed.floatNote ?? "float model not evaluated"}`);
    const modelJson = readJson<{ layers: { outFracBits: number }[] }>(
      join(exportDir, "model.json"),
    );
    acc = {
      floatTestAcc: fixed.float.acc,
      fixedTestAcc: fixed.acc,
      argmaxAgreement: fixed.float.argmaxAgreement,
      testCount: fixed.count,
      fracBits: modelJson.layers.at(-1)?.outFracBits ?? 0,
    };
  } else {
    const float = await evaluateCheckpoint(runDir);
    acc = {
      floatTestAcc: float.acc,
      fixedTestAcc: null,
      argmaxAgreement: null,
      testCount: float.count,
      fracBits: null,
    };
  }
  const best = history.reduce((a, b) => (b.valAcc > a.valAcc ? b : a), history[0]);
  return {
    name,
    model: run.model,
    role: run.modelConfig.role === "teacher" ? "teacher" : "student",
    dataset: run.dataset,
    width: run.width,
    params,
    kd:
      run.kd && run.teacher
        ? {
            teacher: teacherLabel(run),
            lambda: run.kd.lambda,
            T: run.kd.T,
            t2Scaling: run.kd.t2Scaling,
          }
        : null,
    epochs: latest.epoch,
    bestEpoch: best?.epoch ?? latest.epoch,
    initEpochs: run.init?.epochs ?? 0,
    initStages: initStageEpochs(run.init),
    trainSeconds: (run.init?.trainSeconds ?? 0) + history.reduce((s, r) => s + r.seconds, 0),
    backend: backendCell(run.backend, history),
    seed: run.hyper.seed,
    ...acc,
    command: reproduceCommand(run, `runs/${name}`),
    exportFlags: exportFlags(exportSource(runDir)),
    evaluatedAt: new Date().toISOString(),
  };
}

/**
 * The teacher a KD card names: the folder of the teacher checkpoint ("vgg16-w0.25-s2",
 * which tells two teachers of one architecture apart), or its architecture when the run
 * did not record where the teacher came from. A continued run whose earlier stages were
 * distilled from other teachers lists them in order ("vgg16-w0.25, then vgg16-w0.25-s2").
 */
export function teacherLabel(run: Pick<TrainRunJson, "teacher" | "kd" | "init">): string {
  const names: string[] = [];
  const visit = (r: Pick<TrainRunJson, "teacher" | "kd" | "init"> | undefined): void => {
    if (!r) return;
    visit(r.init?.run);
    if (!r.kd || !r.teacher) return;
    const ckpt = r.teacher.checkpoint;
    const name = ckpt ? basename(teacherRunDir(ckpt)) : r.teacher.model;
    if (names.at(-1) !== name) names.push(name);
  };
  visit(run);
  return names.join(", then ");
}

/**
 * A card whose KD teacher is named by its checkpoint (`teacherLabel`), re-derived from
 * the run's run.json, for the card table and docs/RESULTS.md: cards measured before the
 * label existed record only the teacher's architecture.
 */
export function withTeacherCheckpoint(
  card: ModelCard,
  run: Pick<TrainRunJson, "teacher" | "kd" | "init">,
): ModelCard {
  const label = teacherLabel(run);
  return card.kd && label ? { ...card, kd: { ...card.kd, teacher: label } } : card;
}

/** The export criterion (issue 4): argmax agreement of an export with its float model on the
 * full test set; tools/src/shipped.test.ts holds every shipped export to it. */
export const MIN_EXPORT_AGREEMENT = 0.995;

/** What `pnpm cards` prints under a model whose export fails the criterion (null when it passes
 * or has no export), so that the person shipping it learns before CI does. */
export function agreementWarning(card: Pick<ModelCard, "name" | "argmaxAgreement">): string | null {
  if (card.argmaxAgreement === null || card.argmaxAgreement >= MIN_EXPORT_AGREEMENT) return null;
  return `  warning: ${card.name}'s export agrees with its float model on ${pct(card.argmaxAgreement)} of the test images, below the ${pct(MIN_EXPORT_AGREEMENT)} export criterion that CI checks (tools/src/shipped.test.ts): restore the shipped model (git checkout -- checkpoints/${card.name}) or ship these weights float-only under another name (tools/scripts/ship-checkpoint.sh <run> <name> --no-export)`;
}

const pct = (x: number | null): string => (x === null ? "-" : `${(100 * x).toFixed(2)}%`);

function hms(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}

/**
 * Epochs each stage of an --init chain kept (its best checkpoint's epoch),
 * oldest first; [] for a run from scratch or an init outside `pnpm train`.
 */
export function initStageEpochs(init: TrainInit | null | undefined): number[] {
  if (!init?.epochs) return [];
  const before = init.run?.init?.epochs ?? 0;
  return [...initStageEpochs(init.run?.init), init.epochs - before];
}

/**
 * "15 + 17 + " for a card whose weights continued two earlier stages of 15
 * and 17 epochs ("" for a run from scratch): what precedes its own epochs.
 * Cards from before `initStages` show the earlier stages' sum.
 */
export function earlierStagesPrefix(c: Pick<ModelCard, "initEpochs" | "initStages">): string {
  const stages = c.initStages?.length ? c.initStages : c.initEpochs ? [c.initEpochs] : [];
  return stages.map((e) => `${e} + `).join("");
}

/**
 * "20 (15)"; for a continued run "15 + 20 (15 + 12)": the epochs (best) of
 * the last stage after those the --init weights held, one term per stage.
 */
function epochsCell(c: ModelCard): string {
  const pre = earlierStagesPrefix(c);
  return `${pre}${c.epochs} (${pre}${c.bestEpoch})`;
}

/** checkpoints/README.md from the cards (plus a hand-written notes file, if present). */
export function renderCards(cards: ModelCard[], notes: string): string {
  const lines = [
    "# Shipped models",
    "",
    "Generated by `pnpm cards` from each model's `card.json` (measured on the full test set by that command); do not edit by hand. Notes and gaps: `checkpoints/NOTES.md`, included below.",
    "",
    "Each `checkpoints/<name>/` holds the best-by-validation weights (`ckpt-e*/`: topology + weights, no optimizer state), the run's `run.json` / `history.json` / `final.json`, and, for the models that run securely, its fixed-point export in `export/` (`pnpm secure-eval --export checkpoints/<name>/export`). Teachers ship without an export (they are only distilled from, never run securely): their fixed-point columns are '-'.",
    "",
    "| model | dataset | role | KD | params | epochs (best) | train time | backend | seed | float acc | fixed-point acc | argmax agreement |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const c of cards) {
    const kd = c.kd
      ? `${c.kd.teacher}, lambda ${c.kd.lambda}, T ${c.kd.T}${c.kd.t2Scaling ? ", T^2" : ""}`
      : "none";
    lines.push(
      `| ${c.name} | ${c.dataset} | ${c.role}${c.width !== 1 ? ` (width ${c.width})` : ""} | ${kd} | ${c.params.toLocaleString("en-US")} | ${epochsCell(c)} | ${hms(c.trainSeconds)} | ${c.backend} | ${c.seed} | ${pct(c.floatTestAcc)} | ${pct(c.fixedTestAcc)} | ${pct(c.argmaxAgreement)} |`,
    );
  }
  lines.push("", "## Reproduce", "");
  for (const c of cards) {
    const shipFlags =
      c.fixedTestAcc === null ? " --no-export" : c.exportFlags ? ` ${c.exportFlags}` : "";
    lines.push(
      `- **${c.name}**: ${c.command
        .split(", then ")
        .map((cmd) => `\`${cmd}\``)
        .join(
          ", then ",
        )}, then \`tools/scripts/ship-checkpoint.sh runs/${c.name} ${c.name}${shipFlags}\` and \`pnpm cards\`.`,
    );
  }
  lines.push(
    "",
    "Training times are the sum of the epochs' wall times on the development machine (2 cores, shared with other work while these ran, so they overstate an idle machine's). A continued run (`--init`) adds the earlier stages' time up to the epoch whose weights it started from; epochs an earlier stage trained past its best are not counted, though its reproduce command trains them.",
  );
  if (notes.trim()) lines.push("", notes.trim());
  return `${lines.join("\n")}\n`;
}

export async function writeCards(
  names: string[] | null,
  log: (s: string) => void,
  dir = CHECKPOINTS_DIR,
): Promise<ModelCard[]> {
  const todo = names ?? cardedModels(dir);
  for (const name of todo) {
    log(`measuring ${name} (full test set)...`);
    const card = await measureCard(name, dir);
    const file = join(dir, name, "card.json");
    writeFileSync(`${file}.tmp`, `${JSON.stringify(card, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    log(
      `  ${name}: float ${pct(card.floatTestAcc)}, fixed ${pct(card.fixedTestAcc)}, agreement ${pct(card.argmaxAgreement)}`,
    );
    const warning = agreementWarning(card);
    if (warning) log(warning);
  }
  // the reproduce command and the teacher's name are re-derived from run.json, so a fix to
  // them needs no re-measuring
  const cards = cardedModels(dir)
    .filter((n) => existsSync(join(dir, n, "card.json")))
    .map((n) => {
      const run = readJson<TrainRunJson>(join(dir, n, "run.json"));
      return {
        ...withTeacherCheckpoint(readJson<ModelCard>(join(dir, n, "card.json")), run),
        command: reproduceCommand(run, `runs/${n}`),
        exportFlags: exportFlags(exportSource(join(dir, n))),
      };
    });
  const notesFile = join(dir, "NOTES.md");
  const notes = existsSync(notesFile) ? readFileSync(notesFile, "utf8") : "";
  writeFileSync(join(dir, "README.md"), renderCards(cards, notes));
  return cards;
}
