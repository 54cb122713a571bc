import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { EXPORT_FORMAT } from "@cbnn/shared";
import type * as tf from "@tensorflow/tfjs";
import {
  type AdamStateData,
  type AdamStateJson,
  decodeAdamState,
  encodeAdamState,
} from "../trainer/adam";
import {
  decodeWeightSnapshot,
  encodeWeightSnapshot,
  type WeightSnapshot,
  type WeightSnapshotJson,
} from "../trainer/ema";
import { writeFileAtomic, writeJsonAtomic } from "./atomic";
import { MODEL_JSON, saveModel } from "./model-io";

/**
 * Run directory layout (see docs/training.md):
 *
 *   <run>/run.json       what was trained and how (model, data, KD, hyper-parameters, seed)
 *   <run>/history.json   one entry per finished epoch
 *   <run>/latest.json    pointer: { latest, best, epoch, step, done }
 *   <run>/ckpt-e0003/    a full checkpoint (after 3 epochs; ckpt-e0003-s000120 mid-epoch):
 *        model.json weights.bin          topology + weights (tfjs layers format)
 *        optimizer.json optimizer.bin    Adam moments and step count
 *        state.json                      position (epoch, step), partial epoch sums, history, best
 *        train-weights.json train-weights.bin  with --ema only: the trained weights (model.json's
 *                                        are their moving average), which a resume continues from
 *
 * A checkpoint is written into a `.tmp-*` directory and renamed into place
 * when complete; then latest.json is replaced atomically. A run killed at any
 * moment leaves the previous checkpoint intact and never a half-written one.
 * Only the latest and the best checkpoint are kept.
 */
export const RUN_JSON = "run.json";
export const HISTORY_JSON = "history.json";
export const LATEST_JSON = "latest.json";
export const STATE_JSON = "state.json";
export const OPTIMIZER_JSON = "optimizer.json";
export const OPTIMIZER_BIN = "optimizer.bin";
export const TRAIN_WEIGHTS_JSON = "train-weights.json";
export const TRAIN_WEIGHTS_BIN = "train-weights.bin";

export interface HistoryEntry {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  valLoss: number;
  valAcc: number;
  lr: number;
  seconds: number;
  imagesPerSecond: number;
  /** Gradient worker threads of the epoch (`--workers`); absent = 1, this thread. */
  workers?: number;
}

export interface TrainState {
  /** Completed epochs. */
  epoch: number;
  /** Completed steps within epoch `epoch` (0 at an epoch boundary). */
  step: number;
  /** Optimizer steps since the start of the run. */
  globalStep: number;
  /** Sums over the partial epoch (so a mid-epoch resume reports the same epoch loss). */
  partial: { lossSum: number; correct: number; seen: number; seconds: number };
  history: HistoryEntry[];
  best: { epoch: number; valAcc: number; dir: string } | null;
  /** All randomness is derived from (seed, epoch, step); stored for the record. */
  rng: { seed: number; scheme: string };
}

export interface LatestPointer {
  latest: string;
  best: string | null;
  epoch: number;
  step: number;
  done: boolean;
}

export function checkpointName(epoch: number, step: number): string {
  const e = `ckpt-e${String(epoch).padStart(4, "0")}`;
  return step === 0 ? e : `${e}-s${String(step).padStart(6, "0")}`;
}

export function readJsonFile<T>(path: string): T {
  if (!existsSync(path)) throw new Error(`${path}: not found`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

export function readLatest(runDir: string): LatestPointer | null {
  const p = join(runDir, LATEST_JSON);
  if (!existsSync(p)) return null;
  const l = readJsonFile<LatestPointer>(p);
  if (typeof l.latest !== "string" || !existsSync(join(runDir, l.latest, STATE_JSON))) {
    throw new Error(`${p}: field "latest" points to a missing checkpoint (${l.latest})`);
  }
  return l;
}

export interface SaveCheckpointInput {
  model: tf.LayersModel;
  optimizer: AdamStateData;
  state: TrainState;
  done: boolean;
  /** With --ema: the trained weights, saved beside the model's (averaged) ones for a resume. */
  trainWeights?: WeightSnapshot;
}

/** Writes a full checkpoint for `state` and moves the pointers; returns its directory name. */
export async function saveCheckpoint(runDir: string, input: SaveCheckpointInput): Promise<string> {
  const { state } = input;
  const name = checkpointName(state.epoch, state.step);
  const final = join(runDir, name);
  const prev = readLatest(runDir);
  if (!(prev?.latest === name && existsSync(final))) {
    const tmp = join(runDir, `.tmp-${name}-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    await saveModel(input.model, tmp);
    const opt = encodeAdamState(input.optimizer);
    writeFileAtomic(join(tmp, OPTIMIZER_BIN), opt.bin);
    writeJsonAtomic(join(tmp, OPTIMIZER_JSON), opt.json);
    writeJsonAtomic(join(tmp, STATE_JSON), state);
    if (input.trainWeights) {
      const tw = encodeWeightSnapshot(input.trainWeights);
      writeFileAtomic(join(tmp, TRAIN_WEIGHTS_BIN), tw.bin);
      writeJsonAtomic(join(tmp, TRAIN_WEIGHTS_JSON), tw.json);
    }
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  }
  const best = state.best?.dir ?? null;
  writeJsonAtomic(join(runDir, HISTORY_JSON), state.history);
  writeJsonAtomic(join(runDir, LATEST_JSON), {
    latest: name,
    best,
    epoch: state.epoch,
    step: state.step,
    done: input.done,
  } satisfies LatestPointer);
  // Drop checkpoints nobody points to and leftovers of interrupted writes.
  for (const entry of readdirSync(runDir)) {
    // A run directory has one writer: any .tmp-* left now is from a killed write.
    const isCkpt = entry.startsWith("ckpt-") || entry.startsWith(".tmp-");
    if (isCkpt && entry !== name && entry !== best) {
      rmSync(join(runDir, entry), { recursive: true, force: true });
    }
  }
  return name;
}

export interface LoadedCheckpoint {
  dir: string;
  state: TrainState;
  optimizer: AdamStateData;
  /** The trained weights of an --ema run (absent otherwise). */
  trainWeights?: WeightSnapshot;
}

export function loadCheckpointState(dir: string): LoadedCheckpoint {
  const state = readJsonFile<TrainState>(join(dir, STATE_JSON));
  const optJson = readJsonFile<AdamStateJson>(join(dir, OPTIMIZER_JSON));
  const binPath = join(dir, OPTIMIZER_BIN);
  if (!existsSync(binPath)) throw new Error(`${binPath}: not found`);
  const optimizer = decodeAdamState(optJson, readFileSync(binPath), binPath);
  const twJson = join(dir, TRAIN_WEIGHTS_JSON);
  if (!existsSync(twJson)) return { dir, state, optimizer };
  const twBin = join(dir, TRAIN_WEIGHTS_BIN);
  if (!existsSync(twBin)) throw new Error(`${twBin}: not found`);
  const trainWeights = decodeWeightSnapshot(
    readJsonFile<WeightSnapshotJson>(twJson),
    readFileSync(twBin),
    twBin,
  );
  return { dir, state, optimizer, trainWeights };
}

export type Which = "best" | "latest";

export interface ResolvedCheckpoint {
  /** Directory holding model.json + weights.bin. */
  modelDir: string;
  /** The run directory (holding run.json), when there is one. */
  runDir: string | null;
}

/** True when a model.json is pnpm export's format (it names one), not a tfjs model's. */
function isFixedPointExport(modelJson: string): boolean {
  try {
    const j = JSON.parse(readFileSync(modelJson, "utf8")) as { format?: unknown };
    return j.format === EXPORT_FORMAT;
  } catch {
    return false; // unreadable: the tfjs loader reports it
  }
}

/**
 * Accepts a run directory (picks the best checkpoint, or the latest with
 * which = "latest") or a checkpoint directory (holding model.json).
 */
export function resolveCheckpoint(path: string, which: Which = "best"): ResolvedCheckpoint {
  const abs = resolve(path);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new Error(`--checkpoint ${path}: not a directory`);
  }
  if (existsSync(join(abs, LATEST_JSON))) {
    const l = readLatest(abs)!;
    const pick = which === "best" && l.best ? l.best : l.latest;
    return { modelDir: join(abs, pick), runDir: abs };
  }
  if (existsSync(join(abs, MODEL_JSON))) {
    if (isFixedPointExport(join(abs, MODEL_JSON))) {
      throw new Error(
        `${path}: a fixed-point export (pnpm export's output), not a training checkpoint; pnpm evaluate --export and pnpm secure-eval --export read it`,
      );
    }
    const parent = resolve(abs, "..");
    return { modelDir: abs, runDir: existsSync(join(parent, RUN_JSON)) ? parent : null };
  }
  throw new Error(
    `--checkpoint ${path}: neither a run directory (${LATEST_JSON}) nor a checkpoint (${MODEL_JSON})`,
  );
}
