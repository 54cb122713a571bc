import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { DataParallel, type LossSpec, type ModelSpec, weightedSum } from "../backend/parallel";
import { writeJsonAtomic } from "../checkpoint/atomic";
import {
  checkpointName,
  type HistoryEntry,
  type LatestPointer,
  loadCheckpointState,
  RUN_JSON,
  readJsonFile,
  readLatest,
  saveCheckpoint,
  type TrainState,
} from "../checkpoint/checkpoint";
import { loadWeightsInto } from "../checkpoint/model-io";
import type { SignGrad } from "../layers";
import { Adam } from "./adam";
import { restoreWeights, WeightEma } from "./ema";
import { type ProgressSink, StderrProgress, silentProgress } from "./progress";
import { deriveSeed, mulberry32, permutation } from "./rng";
import { packTargets } from "./worker-entry";

/** Images as raw uint8 NHWC with integer labels. */
export interface DataSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  /** [height, width, channels] */
  shape: [number, number, number];
}

export interface Normalisation {
  /** Per channel, in pixel units 0..255. */
  mean: number[];
  std: number[];
}

export type LrSchedule = "constant" | "cosine";

export interface HyperParams {
  epochs: number;
  batchSize: number;
  /** Micro-batch size for gradient accumulation; equal to batchSize = no accumulation. */
  microBatch: number;
  lr: number;
  lrSchedule: LrSchedule;
  seed: number;
  /**
   * Decoupled (AdamW) weight decay of the kernels, per unit learning rate;
   * absent or 0 = none (runs recorded before it existed have none).
   */
  weightDecay?: number;
  /** Backward pass of the Sign activations; absent = "ste" (hard-tanh STE). */
  signGrad?: SignGrad;
  /**
   * Decay of an exponential moving average of the weights ({@link WeightEma}); absent
   * or 0 = none. With it, validation, the best checkpoint and everything read from a
   * checkpoint's weights (export, --init, evaluate) use the averaged weights.
   */
  ema?: number;
  /**
   * Maxpool before each block's activation in training (zoo BuildOptions.poolFirst:
   * same forward pass, max pooling's gradient to the largest pre-activation); absent = false.
   */
  poolFirst?: boolean;
}

/**
 * Loss of one micro-batch: integer labels [n], student logits [n, classes] and,
 * when distilling, the cached teacher logits [n, classes]. Returns the mean
 * over the micro-batch.
 */
export type LossFn = (
  labels: tf.Tensor1D,
  logits: tf.Tensor2D,
  teacher: tf.Tensor2D | null,
) => tf.Scalar;

export interface TrainerOptions {
  runDir: string;
  /** Builds the (seeded) model; called once, before any checkpoint is restored. */
  buildModel: () => tf.LayersModel;
  train: DataSplit;
  val: DataSplit;
  classes: number;
  normalisation: Normalisation;
  hyper: HyperParams;
  loss: LossFn;
  /** Augments a batch in place or returns a new one; `seed` is derived from (seed, epoch, step). */
  augment?: ((images: Uint8Array, count: number, seed: number) => Uint8Array) | null;
  /** Teacher logits for every training example, row-major [train.count, classes]. */
  teacherLogits?: Float32Array | null;
  /** Written to run.json; on resume the stored one must agree on `hyper` (except epochs). */
  runInfo?: Record<string, unknown>;
  resume?: boolean;
  /**
   * Checkpoint directory (model.json + weights.bin) whose weights a *new* run
   * starts from instead of the seeded initialisation (fine-tuning, or more
   * epochs on a finished run under a fresh schedule). Ignored on resume: the
   * run's own checkpoint holds the weights then.
   */
  initWeightsDir?: string | null;
  /**
   * Data-parallel gradients over `workers` threads (each its own tfjs instance; BN
   * normalises each worker's shard with the shard's statistics). The workers build the
   * model from `model` (the same model `buildModel` builds) and compute `loss` (which must
   * match `loss` above) on targets packed by packTargets. Absent, or 1 worker: this thread.
   */
  parallel?: ParallelOptions | null;
  /** When aborted (e.g. Ctrl-C) the trainer saves a checkpoint at the next step and returns. */
  signal?: AbortSignal;
  /** Test hook: stop (with a checkpoint) after this many epochs of this call. */
  stopAfterEpochs?: number;
  /** Test hook: stop (with a checkpoint) after this many optimizer steps of this call. */
  stopAfterSteps?: number;
  progress?: ProgressSink | false;
  log?: (line: string) => void;
}

export interface ParallelOptions {
  workers: number;
  model: ModelSpec;
  loss: LossSpec;
  backend: "wasm" | "cpu";
}

export interface TrainResult {
  /**
   * The trained model. With `hyper.ema` it holds the trained weights, not their average:
   * the average is in the checkpoints (load the best one for what validation measured).
   */
  model: tf.LayersModel;
  history: HistoryEntry[];
  best: TrainState["best"];
  /** True when the run stopped before its last epoch (signal or test hook). */
  stopped: boolean;
  runDir: string;
}

export interface RunJson {
  hyper: HyperParams;
  normalisation: Normalisation;
  classes: number;
  trainCount: number;
  valCount: number;
  inputShape: [number, number, number];
  [key: string]: unknown;
}

export function lrAt(hyper: HyperParams, epoch: number, step: number, steps: number): number {
  if (hyper.lrSchedule === "constant") return hyper.lr;
  const t = (epoch + step / steps) / hyper.epochs;
  return 0.5 * hyper.lr * (1 + Math.cos(Math.PI * Math.min(1, t)));
}

export function validateHyper(h: HyperParams): void {
  const posInt = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`${name} must be a positive integer, got ${v}`);
  };
  posInt(h.epochs, "epochs");
  posInt(h.batchSize, "batch");
  posInt(h.microBatch, "micro-batch");
  if (h.microBatch > h.batchSize) {
    throw new Error(`micro-batch (${h.microBatch}) must not exceed batch (${h.batchSize})`);
  }
  if (!(h.lr > 0) || !Number.isFinite(h.lr)) throw new Error(`lr must be > 0, got ${h.lr}`);
  if (!Number.isInteger(h.seed) || h.seed < 0)
    throw new Error(`seed must be an integer >= 0, got ${h.seed}`);
  if (h.lrSchedule !== "constant" && h.lrSchedule !== "cosine") {
    throw new Error(`lr schedule must be constant or cosine, got ${h.lrSchedule}`);
  }
  const wd = h.weightDecay ?? 0;
  if (!(wd >= 0) || !Number.isFinite(wd))
    throw new Error(`weight decay must be >= 0, got ${h.weightDecay}`);
  const ema = h.ema ?? 0;
  if (!(ema >= 0 && ema < 1)) throw new Error(`ema must be 0 (off) or in (0, 1), got ${h.ema}`);
}

/**
 * Which trainable weights weight decay applies to: kernels (dense, conv,
 * depthwise, pointwise), not biases or batch-norm gamma/beta.
 */
export function decayMask(model: tf.LayersModel): boolean[] {
  return model.trainableWeights.map((w) => /kernel$/.test(w.originalName));
}

/** Normalised float batch [n, h, w, c] from raw uint8 pixels. */
export function normaliseBatch(
  images: Uint8Array,
  count: number,
  shape: [number, number, number],
  norm: Normalisation,
): tf.Tensor4D {
  const [h, w, c] = shape;
  if (norm.mean.length !== c || norm.std.length !== c) {
    throw new Error(`normalisation has ${norm.mean.length} channels, images have ${c}`);
  }
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(images.subarray(0, count * h * w * c)), [
      count,
      h,
      w,
      c,
    ]);
    return tf.div(tf.sub(x, tf.tensor1d(norm.mean)), tf.tensor1d(norm.std)) as tf.Tensor4D;
  });
}

function gather(data: DataSplit, idx: Uint32Array, from: number, to: number) {
  const [h, w, c] = data.shape;
  const px = h * w * c;
  const n = to - from;
  const images = new Uint8Array(n * px);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = idx[from + i];
    images.set(data.images.subarray(j * px, (j + 1) * px), i * px);
    labels[i] = data.labels[j];
  }
  return { images, labels };
}

function gatherRows(src: Float32Array, cols: number, idx: Uint32Array, from: number, to: number) {
  const out = new Float32Array((to - from) * cols);
  for (let i = from; i < to; i++)
    out.set(src.subarray(idx[i] * cols, (idx[i] + 1) * cols), (i - from) * cols);
  return out;
}

/** Accuracy and mean cross-entropy of `model` (inference mode) on a split. */
export function evaluateFloat(
  model: tf.LayersModel,
  data: DataSplit,
  norm: Normalisation,
  batch = 500,
): { acc: number; loss: number; predictions: Int32Array } {
  const [h, w, c] = data.shape;
  const px = h * w * c;
  const predictions = new Int32Array(data.count);
  let lossSum = 0;
  let correct = 0;
  for (let from = 0; from < data.count; from += batch) {
    const n = Math.min(batch, data.count - from);
    const { pred, loss } = tf.tidy(() => {
      const x = normaliseBatch(
        data.images.subarray(from * px, (from + n) * px),
        n,
        data.shape,
        norm,
      );
      const logits = model.predict(x) as tf.Tensor2D;
      const y = tf.tensor1d(Int32Array.from(data.labels.subarray(from, from + n)), "int32");
      const l = tf.neg(tf.sum(tf.mul(tf.oneHot(y, logits.shape[1]), tf.logSoftmax(logits))));
      return { pred: tf.argMax(logits, 1).dataSync() as Int32Array, loss: l.dataSync()[0] };
    });
    predictions.set(pred, from);
    lossSum += loss;
    for (let i = 0; i < n; i++) if (pred[i] === data.labels[from + i]) correct++;
  }
  return {
    acc: correct / Math.max(1, data.count),
    loss: lossSum / Math.max(1, data.count),
    predictions,
  };
}

/** One optimizer step's batch, as a step function receives it. */
interface StepBatch {
  /** raw (augmented) pixels of the batch */
  images: Uint8Array;
  labels: Int32Array;
  /** teacher logits [batch, classes] when distilling */
  teacher: Float32Array | null;
  batch: number;
  microBatch: number;
  shape: [number, number, number];
  normalisation: Normalisation;
  classes: number;
}

/** Summed loss, correct predictions and batch-mean gradients (vars order) of one step. */
interface StepResult {
  lossSum: number;
  correct: number;
  grads: tf.Tensor[];
}

/**
 * One optimizer step's gradients on this thread, micro-batch by micro-batch. tfjs draws
 * unseeded randomness (dropout masks) from Math.random: it is seeded with `seed`, derived
 * from (seed, epoch, step), so that a resumed run draws the same masks.
 */
function localStep(
  model: tf.LayersModel,
  vars: tf.Variable[],
  loss: LossFn,
  b: StepBatch & { seed: number },
): StepResult {
  const px = b.shape[0] * b.shape[1] * b.shape[2];
  let lossSum = 0;
  let correct = 0;
  let acc: tf.Tensor[] | null = null;
  const mathRandom = Math.random;
  Math.random = mulberry32(b.seed);
  try {
    for (let m0 = 0; m0 < b.batch; m0 += b.microBatch) {
      const m1 = Math.min(b.batch, m0 + b.microBatch);
      const n = m1 - m0;
      const weight = n / b.batch;
      let predicted: Int32Array | null = null;
      const { value, grads } = tf.tidy(() => {
        const x = normaliseBatch(b.images.subarray(m0 * px, m1 * px), n, b.shape, b.normalisation);
        const y = tf.tensor1d(b.labels.subarray(m0, m1), "int32");
        const t = b.teacher
          ? tf.tensor2d(b.teacher.subarray(m0 * b.classes, m1 * b.classes), [n, b.classes])
          : null;
        return tf.variableGrads(() => {
          const logits = model.apply(x, { training: true }) as tf.Tensor2D;
          predicted = tf.argMax(logits, 1).dataSync() as Int32Array;
          return tf.mul(loss(y, logits, t), weight) as tf.Scalar;
        }, vars);
      });
      lossSum += value.dataSync()[0] * b.batch;
      value.dispose();
      const p = predicted as Int32Array | null;
      if (p) for (let i = 0; i < n; i++) if (p[i] === b.labels[m0 + i]) correct++;
      const gl = vars.map((v) => {
        const gr = grads[v.name];
        if (!gr) throw new Error(`no gradient for ${v.name}: is it used by the model's output?`);
        return gr;
      });
      if (acc === null) acc = gl;
      else {
        const prev: tf.Tensor[] = acc;
        acc = prev.map((a, i) => tf.add(a, gl[i]));
        for (const t of [...prev, ...gl]) t.dispose();
      }
    }
  } finally {
    Math.random = mathRandom;
  }
  return { lossSum, correct, grads: acc ?? [] };
}

/** Starts the gradient workers and checks that they built the trainer's model. */
async function openWorkers(p: ParallelOptions, model: tf.LayersModel): Promise<DataParallel> {
  const dp = await DataParallel.create({
    model: p.model,
    loss: p.loss,
    workers: p.workers,
    backend: p.backend,
  });
  const want = model.weights.map((lw) => lw.shape.join("x")).join(",");
  const got = dp.shapes.all.map((sh) => sh.join("x")).join(",");
  if (want !== got) {
    await dp.close();
    throw new Error(`the workers' model has other weights (${got}) than this one (${want})`);
  }
  return dp;
}

/**
 * The same through DataParallel: per micro-batch, the current weights (BN moving
 * statistics included) go out with the normalised images and packed targets; the
 * workers' averaged gradients are summed with the micro-batch's share. Each micro-batch
 * sends the BN statistics the last one returned; they are written to the model only
 * after the last micro-batch, so a worker failing mid-step leaves the model as it was
 * before the step (and the checkpoint saved then resumes bit-identically).
 * `seed(m0)` seeds the dropout of the micro-batch at row m0.
 */
async function parallelStep(
  dp: DataParallel,
  model: tf.LayersModel,
  b: StepBatch & { seed: (m0: number) => number },
): Promise<StepResult> {
  const [h, w, c] = b.shape;
  const px = h * w * c;
  let lossSum = 0;
  let correct = 0;
  const parts: Float32Array[][] = [];
  const shares: number[] = [];
  const nTrainable = model.trainableWeights.length;
  const nonTrainable = model.nonTrainableWeights;
  // all weights, BN moving statistics included: each micro-batch sees the last one's
  const weights = model.getWeights().map((t) => t.dataSync() as Float32Array);
  for (let m0 = 0; m0 < b.batch; m0 += b.microBatch) {
    const m1 = Math.min(b.batch, m0 + b.microBatch);
    const n = m1 - m0;
    const xt = normaliseBatch(b.images.subarray(m0 * px, m1 * px), n, b.shape, b.normalisation);
    const x = { data: xt.dataSync() as Float32Array, shape: [n, h, w, c] };
    xt.dispose();
    const labels = b.labels.subarray(m0, m1);
    const y = packTargets(
      labels,
      b.teacher ? b.teacher.subarray(m0 * b.classes, m1 * b.classes) : null,
      b.classes,
    );
    // openWorkers checked that the workers' weights are this model's, in this order
    const r = await dp.gradients(weights, x, y, { seed: b.seed(m0) });
    lossSum += r.loss * n;
    for (let i = 0; i < n; i++) if (r.predictions[i] === labels[i]) correct++;
    parts.push(r.grads);
    shares.push(n / b.batch);
    r.nonTrainable.forEach((a, i) => {
      weights[nTrainable + i] = a;
    });
  }
  nonTrainable.forEach((lw, i) => {
    tf.tidy(() => {
      lw.write(tf.tensor(weights[nTrainable + i]!, lw.shape as number[]));
    });
  });
  const vars = model.trainableWeights;
  return {
    lossSum,
    correct,
    grads: vars.map((v, i) =>
      tf.tensor(
        weightedSum(
          parts.map((g) => g[i]!),
          shares,
        ),
        v.shape as number[],
      ),
    ),
  };
}

/** The `pnpm train` flag of each hyper-parameter. */
export const HYPER_FLAGS: Record<keyof HyperParams, string> = {
  epochs: "epochs",
  batchSize: "batch",
  microBatch: "micro-batch",
  lr: "lr",
  lrSchedule: "lr-schedule",
  seed: "seed",
  weightDecay: "weight-decay",
  signGrad: "sign-grad",
  ema: "ema",
  poolFirst: "pool-first",
};

/** The hyper-parameters a resumed run must keep (epochs may change on a constant schedule). */
export const HYPER_KEYS_FIXED: readonly (keyof HyperParams)[] = [
  "batchSize",
  "microBatch",
  "lr",
  "lrSchedule",
  "seed",
  "weightDecay",
  "signGrad",
  "ema",
  "poolFirst",
];

/**
 * The hyper-parameters among `keys` whose recorded value `was` differs from `now`, in
 * `keys` order. A field absent from an older run.json has its default (weight decay 0, signGrad "ste", ema 0, poolFirst false).
 */
export function changedHyper(
  was: Partial<HyperParams> | undefined,
  now: HyperParams,
  keys: readonly (keyof HyperParams)[],
): { key: keyof HyperParams; was: unknown; now: unknown }[] {
  const value = (h: Partial<HyperParams> | undefined, k: keyof HyperParams) =>
    k === "weightDecay"
      ? (h?.weightDecay ?? 0)
      : k === "signGrad"
        ? (h?.signGrad ?? "ste")
        : k === "ema"
          ? (h?.ema ?? 0)
          : k === "poolFirst"
            ? (h?.poolFirst ?? false)
            : h?.[k];
  return keys
    .filter((k) => value(was, k) !== value(now, k))
    .map((k) => ({ key: k, was: value(was, k), now: value(now, k) }));
}

/**
 * Why a run directory cannot take this start, or null when it can: it holds a
 * checkpoint and `resume` is off, or a resume would change a hyper-parameter
 * the run must keep (named with its flag). `prevHyper` is run.json's, when any.
 */
export function resumeRefusal(
  runDir: string,
  latest: LatestPointer | null,
  resume: boolean,
  prevHyper: Partial<HyperParams> | undefined,
  hyper: HyperParams,
): string | null {
  if (!latest) return null;
  if (!resume)
    return `${runDir} already holds a run (${latest.latest}); pass --resume or choose another --out`;
  const [d] = prevHyper ? changedHyper(prevHyper, hyper, HYPER_KEYS_FIXED) : [];
  return d
    ? `${join(runDir, RUN_JSON)}: cannot resume, hyper.${d.key} was ${d.was}, now ${d.now} (--${HYPER_FLAGS[d.key]}: give the run's value)`
    : null;
}

/**
 * Trains `buildModel()` with Adam (AdamW when `hyper.weightDecay` > 0), checkpointing every epoch into `runDir`.
 * With `hyper.ema`, validation and the checkpoints' weights are the moving average of the
 * weights; the trained weights a resume needs are saved beside them (train-weights.*).
 * With `resume`, continues from the latest checkpoint; the continuation is
 * bit-identical to an uninterrupted run (same seed, same backend).
 */
export async function train(opts: TrainerOptions): Promise<TrainResult> {
  const { runDir, hyper, train: trainSet, val, classes, normalisation } = opts;
  validateHyper(hyper);
  const workers = opts.parallel?.workers ?? 1;
  if (!(Number.isInteger(workers) && workers >= 1))
    throw new Error(`workers must be a positive integer, got ${workers}`);
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const progress =
    opts.progress === false ? silentProgress : (opts.progress ?? new StderrProgress());
  if (trainSet.count < 1) throw new Error("training set is empty");
  if (val.count < 1) throw new Error("validation set is empty");
  if (opts.teacherLogits && opts.teacherLogits.length !== trainSet.count * classes) {
    throw new Error(
      `teacher logits hold ${opts.teacherLogits.length} values, need ${trainSet.count} x ${classes}`,
    );
  }

  mkdirSync(runDir, { recursive: true });
  const runJsonPath = join(runDir, RUN_JSON);
  let latest: LatestPointer | null = readLatest(runDir);
  const runJson: RunJson = {
    ...(opts.runInfo ?? {}),
    hyper,
    normalisation,
    classes,
    trainCount: trainSet.count,
    valCount: val.count,
    inputShape: trainSet.shape,
  };
  const prev = latest && existsSync(runJsonPath) ? readJsonFile<RunJson>(runJsonPath) : null;
  const refusal = resumeRefusal(runDir, latest, opts.resume ?? false, prev?.hyper, hyper);
  if (refusal) throw new Error(refusal);
  if (prev) {
    if (hyper.lrSchedule === "cosine" && prev.hyper.epochs !== hyper.epochs) {
      throw new Error(
        `${runJsonPath}: cannot change epochs (${prev.hyper.epochs}) of a cosine schedule on resume`,
      );
    }
    for (const k of ["trainCount", "valCount", "classes"] as const) {
      if (prev[k] !== runJson[k])
        throw new Error(`${runJsonPath}: cannot resume, ${k} was ${prev[k]}, now ${runJson[k]}`);
    }
  }

  const model = opts.buildModel();
  const vars = model.trainableWeights.map((lw) => lw.read() as tf.Variable);
  const adam = new Adam(vars, { weightDecay: hyper.weightDecay ?? 0, decay: decayMask(model) });
  let ema: WeightEma | null = null;
  let state: TrainState = {
    epoch: 0,
    step: 0,
    globalStep: 0,
    partial: { lossSum: 0, correct: 0, seen: 0, seconds: 0 },
    history: [],
    best: null,
    rng: { seed: hyper.seed, scheme: "mulberry32(deriveSeed(seed, epoch, step, purpose))" },
  };
  try {
    if (latest) {
      const loaded = loadCheckpointState(join(runDir, latest.latest));
      loadWeightsInto(model, loaded.dir);
      adam.setState(loaded.optimizer);
      state = loaded.state;
      if (hyper.ema) {
        // the checkpoint's model holds the average; the trained weights lie beside it
        if (!loaded.trainWeights)
          throw new Error(`${loaded.dir}: no train-weights.bin, which resuming with --ema needs`);
        ema = new WeightEma(model, hyper.ema);
        restoreWeights(model, loaded.trainWeights, join(loaded.dir, "train-weights.json"));
      }
      log(`resumed ${runDir} at epoch ${state.epoch}${state.step ? ` step ${state.step}` : ""}`);
    } else if (opts.initWeightsDir) {
      loadWeightsInto(model, opts.initWeightsDir);
      log(`initial weights from ${opts.initWeightsDir}`);
    }
    if (hyper.ema && !ema) ema = new WeightEma(model, hyper.ema);
  } catch (e) {
    // nothing to return: free what was built for the run
    adam.dispose();
    (ema as WeightEma | null)?.dispose();
    model.dispose();
    throw e;
  }
  // written once the checkpoint has loaded: a resume that fails leaves the run's record as it was
  writeJsonAtomic(runJsonPath, runJson);

  const steps = Math.max(1, Math.floor(trainSet.count / hyper.batchSize));
  const batch = Math.min(hyper.batchSize, trainSet.count);
  let stepsThisCall = 0;
  let epochsThisCall = 0;
  const tStart = performance.now();
  let stepsTimed = 0;

  const save = async (done: boolean): Promise<string> => {
    if (!ema) return saveCheckpoint(runDir, { model, optimizer: adam.getState(), state, done });
    return ema.withAverage((trainWeights) =>
      saveCheckpoint(runDir, { model, optimizer: adam.getState(), state, done, trainWeights }),
    );
  };

  let dp: DataParallel | null = null;
  try {
    if (opts.parallel && workers > 1) {
      dp = await openWorkers(opts.parallel, model);
      log(`gradients over ${workers} worker threads (${opts.parallel.backend})`);
    }
    while (state.epoch < hyper.epochs) {
      const epoch = state.epoch;
      const perm = permutation(trainSet.count, deriveSeed(hyper.seed, epoch, 1));
      let epochT0 = performance.now() - state.partial.seconds * 1000;
      while (state.step < steps) {
        const s = state.step;
        const from = s * batch;
        const to = from + batch;
        const g = gather(trainSet, perm, from, to);
        const images = opts.augment
          ? opts.augment(g.images, batch, deriveSeed(hyper.seed, epoch, s, 2))
          : g.images;
        const teacher = opts.teacherLogits
          ? gatherRows(opts.teacherLogits, classes, perm, from, to)
          : null;
        const lr = lrAt(hyper, epoch, s, steps);
        // Let signal handlers (Ctrl-C) run between steps.
        await new Promise<void>((r) => setImmediate(r));
        const stepBatch: StepBatch = {
          images,
          labels: g.labels,
          teacher,
          batch,
          microBatch: hyper.microBatch,
          shape: trainSet.shape,
          normalisation,
          classes,
        };
        let r: StepResult;
        if (dp) {
          try {
            r = await parallelStep(dp, model, {
              ...stepBatch,
              seed: (m0) => deriveSeed(hyper.seed, epoch, s, 3, m0),
            });
          } catch (e) {
            // A failed worker loses nothing: the step was not applied, so save where we are.
            const name = await save(false);
            const why = e instanceof Error ? e.message : String(e);
            throw new Error(
              `${why}; saved ${join(runDir, name)} at epoch ${epoch + 1} step ${s}: continue with --resume`,
            );
          }
        } else {
          r = localStep(model, vars, opts.loss, {
            ...stepBatch,
            seed: deriveSeed(hyper.seed, epoch, s, 3),
          });
        }
        const { lossSum, correct, grads } = r;
        adam.apply(grads, lr);
        for (const t of grads) t.dispose();
        ema?.update(state.globalStep);

        state.step += 1;
        state.globalStep += 1;
        state.partial.lossSum += lossSum;
        state.partial.correct += correct;
        state.partial.seen += batch;
        stepsThisCall += 1;
        stepsTimed += 1;
        const elapsed = (performance.now() - tStart) / 1000;
        const perStep = elapsed / stepsTimed;
        const epochElapsed = (performance.now() - epochT0) / 1000;
        state.partial.seconds = epochElapsed;
        progress.update({
          epoch: epoch + 1,
          epochs: hyper.epochs,
          step: state.step,
          steps,
          loss: state.partial.lossSum / state.partial.seen,
          acc: state.partial.correct / state.partial.seen,
          imagesPerSecond: (stepsTimed * batch) / elapsed,
          etaEpoch: (steps - state.step) * perStep,
          etaRun: ((hyper.epochs - epoch - 1) * steps + steps - state.step) * perStep,
        });
        const stopNow =
          opts.signal?.aborted ||
          (opts.stopAfterSteps !== undefined && stepsThisCall >= opts.stopAfterSteps);
        if (stopNow && state.step < steps) {
          const name = await save(false);
          progress.line(
            `stopped at epoch ${epoch + 1} step ${state.step}/${steps}: checkpoint ${join(runDir, name)}`,
          );
          return { model, history: state.history, best: state.best, stopped: true, runDir };
        }
      }

      const seconds = (performance.now() - epochT0) / 1000;
      const v = ema
        ? await ema.withAverage(() => evaluateFloat(model, val, normalisation))
        : evaluateFloat(model, val, normalisation);
      const entry: HistoryEntry = {
        epoch: epoch + 1,
        trainLoss: state.partial.lossSum / state.partial.seen,
        trainAcc: state.partial.correct / state.partial.seen,
        valLoss: v.loss,
        valAcc: v.acc,
        lr: lrAt(hyper, epoch, steps - 1, steps),
        seconds,
        imagesPerSecond: state.partial.seen / seconds,
        ...(workers > 1 ? { workers } : {}),
      };
      state = {
        ...state,
        epoch: epoch + 1,
        step: 0,
        partial: { lossSum: 0, correct: 0, seen: 0, seconds: 0 },
        history: [...state.history, entry],
      };
      if (!state.best || entry.valAcc > state.best.valAcc) {
        state.best = { epoch: epoch + 1, valAcc: entry.valAcc, dir: checkpointName(epoch + 1, 0) };
      }
      epochsThisCall += 1;
      const done = state.epoch >= hyper.epochs;
      const name = await save(done);
      progress.line(
        `epoch ${entry.epoch}/${hyper.epochs} loss ${entry.trainLoss.toFixed(4)} acc ${(100 * entry.trainAcc).toFixed(2)}%` +
          ` | val loss ${entry.valLoss.toFixed(4)} acc ${(100 * entry.valAcc).toFixed(2)}%` +
          ` | ${entry.seconds.toFixed(1)} s, ${Math.round(entry.imagesPerSecond)} img/s -> ${name}`,
      );
      epochT0 = performance.now();
      const stop =
        opts.signal?.aborted ||
        (opts.stopAfterEpochs !== undefined && epochsThisCall >= opts.stopAfterEpochs);
      if (stop && !done) {
        return { model, history: state.history, best: state.best, stopped: true, runDir };
      }
    }
    latest = readLatest(runDir);
    return { model, history: state.history, best: state.best, stopped: false, runDir };
  } finally {
    adam.dispose();
    ema?.dispose();
    await dp?.close();
  }
}
