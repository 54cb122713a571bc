import { existsSync, readdirSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { augmentBatch, datasetStats, loadDataset, makeRng } from "@cbnn/datasets";
import { type BackendChoice, initBackend } from "../backend";
import { writeJsonAtomic } from "../checkpoint/atomic";
import { RUN_JSON, readJsonFile, readLatest, resolveCheckpoint } from "../checkpoint/checkpoint";
import { loadTrainedModel, type TrainedModel, type TrainRunJson } from "../checkpoint/load";
import { kdLoss } from "../kd";
import type { SignGrad } from "../layers";
import { buildModel } from "../zoo/build";
import { loadModelConfig, type ModelConfig } from "../zoo/config";
import { describeInit, sha256File } from "./init-lineage";
import { teacherLogitsCached } from "./kd-cache";
import type { ProgressSink } from "./progress";
import {
  type DataSplit,
  evaluateFloat,
  type HyperParams,
  type LossFn,
  type LrSchedule,
  resumeRefusal,
  type TrainResult,
  train,
} from "./trainer";
import { TRAINER_WORKER_MODULE } from "./worker-entry";

/** Repository root (this file is training/src/trainer/run.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
/** Where `pnpm train` puts runs unless --out says otherwise. */
export const DEFAULT_RUNS_DIR = join(REPO_ROOT, "runs");
/** Default validation hold-out: the last 5000 training images (10% with --limit below 50000). */
export const DEFAULT_VAL_COUNT = 5000;

/** Student trained when only --teacher is given, by the teacher's dataset (the paper's pairs). */
export const DEFAULT_STUDENT: Record<string, string> = { cifar10: "cifarnet2", mnist: "mnistnet3" };

export interface RunOptions {
  /** Zoo name or config path; omitted with a teacher = the default student for its dataset. */
  model?: string;
  /** Teacher: a zoo name (looked up as runs/<name>, checkpoints/<name>) or a checkpoint directory. */
  teacher?: string | null;
  lambda: number;
  T: number;
  t2Scaling: boolean;
  epochs: number;
  batch: number;
  microBatch?: number;
  lr: number;
  lrSchedule: LrSchedule;
  seed: number;
  /** Decoupled (AdamW) weight decay of the kernels; default 0 (plain Adam). */
  weightDecay?: number;
  /** Backward pass of the Sign activations: "ste" (hard-tanh, default) or "approx" (ApproxSign). */
  signGrad?: SignGrad;
  /** Decay of the weights' moving average (0 or absent = none); see trainer HyperParams.ema. */
  ema?: number;
  /** Maxpool before the activations in training (same forward pass); see zoo BuildOptions.poolFirst. */
  poolFirst?: boolean;
  width: number;
  out?: string;
  resume: boolean;
  /**
   * Start a new run from these weights (a run directory: its best checkpoint, or
   * a checkpoint directory; looked up like --teacher) instead of the seeded
   * initialisation; the optimizer and the learning-rate schedule start afresh.
   */
  init?: string | null;
  backend: BackendChoice;
  /**
   * Gradient worker threads (data parallelism, one wasm or cpu instance each); default 1,
   * this thread. Not with tfjs-node, which is multi-threaded already.
   */
  workers?: number;
  limit?: number;
  valCount?: number;
  /** Default: on for CIFAR-10, off for MNIST. */
  augment?: boolean;
  kdCacheDir?: string;
  /** Evaluate the best checkpoint on the test set when training finishes (default true). */
  testAtEnd?: boolean;
  signal?: AbortSignal;
  progress?: ProgressSink | false;
  log?: (line: string) => void;
}

export interface RunResult extends TrainResult {
  /** Test accuracy of the best-by-validation checkpoint, when evaluated. */
  testAcc: number | null;
  config: ModelConfig;
}

/**
 * The directory a teacher (or --init) argument names: an existing path, or
 * runs/<name>, checkpoints/<name>.
 */
export function resolveTeacherDir(teacher: string, flag = "--teacher"): string {
  if (existsSync(teacher)) return resolve(teacher);
  const candidates = [join(DEFAULT_RUNS_DIR, teacher), join(REPO_ROOT, "checkpoints", teacher)];
  for (const c of candidates) if (existsSync(c)) return c;
  const shipDir = join(REPO_ROOT, "checkpoints");
  const shipped = existsSync(shipDir)
    ? readdirSync(shipDir).filter((n) => existsSync(join(shipDir, n, "latest.json")))
    : [];
  throw new Error(
    `${flag} ${teacher}: no checkpoint at ${candidates.join(" or ")}; give a run or checkpoint directory, a run under runs/ (pnpm train ... --out runs/<name>) or a shipped one (${shipped.join(", ") || "none"})`,
  );
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(6)));
}

export function defaultRunName(o: {
  model: string;
  width: number;
  seed: number;
  teacher?: string | null;
  lambda: number;
  T: number;
  t2Scaling: boolean;
}): string {
  let n = o.model;
  if (o.width !== 1) n += `-w${fmt(o.width)}`;
  if (o.teacher) {
    const t =
      o.teacher
        .replace(/[/\\]+$/, "")
        .split(/[/\\]/)
        .pop() ?? "teacher";
    n += `-kd-${t}-l${fmt(o.lambda)}-T${fmt(o.T)}${o.t2Scaling ? "-t2" : ""}`;
  }
  if (o.seed !== 1) n += `-s${o.seed}`;
  return n;
}

function sliceSplit(d: DataSplit, from: number, to: number): DataSplit {
  const px = d.shape[0] * d.shape[1] * d.shape[2];
  return {
    images: d.images.subarray(from * px, to * px),
    labels: d.labels.subarray(from, to),
    count: to - from,
    shape: d.shape,
  };
}

/** The --init record of an existing run directory (null when it has none). */
function recordedInit(runDir: string): TrainRunJson["init"] {
  const p = join(runDir, RUN_JSON);
  return existsSync(p) ? (readJsonFile<TrainRunJson>(p).init ?? null) : null;
}

/** The trainer's hyper-parameters (run.json `hyper`) of a run with these options. */
export function hyperParams(
  o: Pick<
    RunOptions,
    | "epochs"
    | "batch"
    | "microBatch"
    | "lr"
    | "lrSchedule"
    | "seed"
    | "weightDecay"
    | "signGrad"
    | "ema"
    | "poolFirst"
  >,
): HyperParams {
  return {
    epochs: o.epochs,
    batchSize: o.batch,
    microBatch: o.microBatch ?? o.batch,
    lr: o.lr,
    lrSchedule: o.lrSchedule,
    seed: o.seed,
    // recorded only when used, so run.json of plain-Adam runs is unchanged
    ...(o.weightDecay ? { weightDecay: o.weightDecay } : {}),
    ...(o.signGrad && o.signGrad !== "ste" ? { signGrad: o.signGrad } : {}),
    ...(o.ema ? { ema: o.ema } : {}),
    ...(o.poolFirst ? { poolFirst: true } : {}),
  };
}

/**
 * A warning when `workers` gradient threads are unlikely to pay: more workers than
 * cores, or other work already keeping the cores busy (two workers on a shared core
 * measured slower than one thread). Null when they fit.
 */
export function workersWarning(workers: number, cores: number, load1: number): string | null {
  if (workers <= 1) return null;
  if (workers > cores) {
    return `--workers ${workers} on ${cores} cores: the workers will share cores and may be slower than fewer`;
  }
  if (load1 > cores - workers + 0.5) {
    return `--workers ${workers}: load average ${load1.toFixed(1)} on ${cores} cores; with the cores busy, workers can be slower than one thread`;
  }
  return null;
}

/** Everything `pnpm train` does: data, teacher logits (cached), training, final test accuracy. */
export async function runTraining(o: RunOptions): Promise<RunResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (!o.model && !o.teacher) throw new Error("give --model, --teacher or both");
  if (!(o.lambda >= 0 && o.lambda <= 1))
    throw new Error(`--lambda must be in [0, 1], got ${o.lambda}`);
  if (!(o.T > 0)) throw new Error(`--T must be > 0, got ${o.T}`);
  if (!(o.width > 0)) throw new Error(`--width must be > 0, got ${o.width}`);
  const workers = o.workers ?? 1;
  if (!(Number.isInteger(workers) && workers >= 1))
    throw new Error(`--workers must be a positive integer, got ${o.workers}`);
  const { tf, name: backendName } = await initBackend({ backend: o.backend, log });
  if (workers > 1 && backendName === "tensorflow") {
    throw new Error(
      "--workers runs wasm or cpu instances in worker threads; tfjs-node already uses every core: drop --workers or pass --backend wasm",
    );
  }
  const warning = workersWarning(workers, availableParallelism(), loadavg()[0] ?? 0);
  if (warning) log(`warning: ${warning}`);

  let teacher: TrainedModel | null = null;
  let teacherDir: string | null = null;
  if (o.teacher) {
    teacherDir = resolveTeacherDir(o.teacher);
    teacher = loadTrainedModel(tf, teacherDir, "best");
    teacher.model.dispose();
  }
  const modelName = o.model ?? DEFAULT_STUDENT[teacher!.run.dataset];
  if (!modelName)
    throw new Error(`no default student for dataset ${teacher!.run.dataset}; pass --model`);
  const config = loadModelConfig(modelName);
  if (teacher && teacher.config.dataset !== config.dataset) {
    throw new Error(
      `teacher ${o.teacher} was trained on ${teacher.config.dataset}, ${config.name} is for ${config.dataset}`,
    );
  }
  const dataset = config.dataset;
  const runDir = resolve(
    o.out ??
      join(
        DEFAULT_RUNS_DIR,
        defaultRunName({
          model: config.name,
          width: o.width,
          seed: o.seed,
          teacher: o.teacher,
          lambda: o.lambda,
          T: o.T,
          t2Scaling: o.t2Scaling,
        }),
      ),
  );
  // Checked before any data is loaded (minutes for a CIFAR-10 teacher's logits),
  // so that a forgotten --resume or a wrong --init fails at once.
  const existing = readLatest(runDir);
  const prevPath = join(runDir, RUN_JSON);
  const prev = existing && existsSync(prevPath) ? readJsonFile<TrainRunJson>(prevPath) : null;
  const refusal = resumeRefusal(runDir, existing, o.resume, prev?.hyper, hyperParams(o));
  if (refusal) throw new Error(refusal);
  const teacherSha = teacher ? sha256File(join(teacher.modelDir, "weights.bin")) : null;
  if (existing && prev) {
    // the network: its weights would not fit another model or width
    for (const [flag, was, now] of [
      ["model", prev.model, config.name],
      ["width", prev.width, o.width],
    ] as const) {
      if (was !== undefined && was !== now)
        throw new Error(
          `${prevPath}: cannot resume, ${flag} was ${was}, now ${now} (--${flag}: give the run's)`,
        );
    }
  }
  if (existing) {
    // the teacher and the KD settings too (a --config recipe names its own teacher)
    const teacherWas = prev?.teacher ?? null;
    const otherTeacher =
      (teacherWas === null) !== (teacherSha === null) ||
      // run.json files from before the hash was recorded are not held to it
      (teacherWas?.weightsSha256 !== undefined && teacherWas.weightsSha256 !== teacherSha);
    if (prev && otherTeacher) {
      throw new Error(
        `${prevPath}: cannot resume with another teacher: the run was distilled from ${teacherWas ? teacherWas.checkpoint : "none"}, now ${teacher ? teacher.modelDir : "none"} (--teacher: give the run's)`,
      );
    }
    const kdNow = teacher ? { lambda: o.lambda, T: o.T, t2Scaling: o.t2Scaling } : null;
    if (prev && JSON.stringify(prev.kd ?? null) !== JSON.stringify(kdNow)) {
      throw new Error(
        `${prevPath}: cannot resume, KD settings were ${JSON.stringify(prev.kd ?? null)}, now ${JSON.stringify(kdNow)} (--lambda, --T, --t2-scaling: give the run's)`,
      );
    }
  }
  // A run killed inside its first epoch has run.json but no checkpoint: --resume
  // starts it again, from the --init it recorded unless another is given.
  const init = o.init ?? (o.resume && !existing ? recordedInit(runDir)?.checkpoint : undefined);
  if (o.resume && !existing) {
    log(
      `--resume: ${runDir} holds no checkpoint yet; starting a new run${init ? ` from --init ${init}${o.init ? "" : " (recorded in its run.json)"}` : ""}`,
    );
  }
  // --init seeds a new run only: a resumed one continues from its own checkpoint.
  const initDir =
    init && !existing
      ? resolveCheckpoint(resolveTeacherDir(init, "--init"), "best").modelDir
      : null;
  const full = await loadDataset(dataset, "train", o.limit !== undefined ? { limit: o.limit } : {});
  const valCount = o.valCount ?? Math.min(DEFAULT_VAL_COUNT, Math.floor(full.count / 10));
  if (!(valCount >= 1 && valCount < full.count)) {
    throw new Error(`validation hold-out ${valCount} must be in [1, ${full.count - 1}]`);
  }
  const trainSet = sliceSplit(full, 0, full.count - valCount);
  const val = sliceSplit(full, full.count - valCount, full.count);
  const stats = await datasetStats(dataset);
  const normalisation = { mean: stats.mean, std: stats.std };
  const augment = o.augment ?? dataset === "cifar10";

  let teacherLogits: Float32Array | null = null;
  if (teacher && teacherDir) {
    const t = teacher;
    const r = teacherLogitsCached({
      teacherModelDir: t.modelDir,
      loadTeacher: () => loadTrainedModel(tf, teacherDir!, "best").model,
      normalisation: t.run.normalisation,
      data: trainSet,
      classes: config.classes,
      label: `${dataset}-train`,
      cacheDir: o.kdCacheDir,
      log,
    });
    teacherLogits = r.logits;
  }

  const kd = teacher ? { lambda: o.lambda, T: o.T, t2Scaling: o.t2Scaling } : null;
  const buildOpts = {
    seed: o.seed,
    width: o.width,
    signGrad: o.signGrad ?? "ste",
    poolFirst: o.poolFirst ?? false,
  } as const;
  const loss: LossFn = (labels, logits, t) =>
    kdLoss(tf, labels, logits, t, kd ?? { lambda: 1, T: 1, t2Scaling: false });
  const runInfo: Omit<TrainRunJson, keyof import("./trainer").RunJson> = {
    model: config.name,
    modelConfig: config,
    width: o.width,
    dataset,
    classNames: full.classes,
    valSplit: `last ${valCount} of the ${full.count} training images loaded; the test set is only used after training`,
    augment,
    backend: backendName,
    limit: o.limit ?? null,
    teacher:
      teacher && teacherSha
        ? {
            checkpoint: teacher.modelDir,
            model: teacher.config.name,
            width: teacher.run.width,
            weightsSha256: teacherSha,
          }
        : null,
    kd,
    // a resumed run keeps what its first start recorded about --init
    init: initDir ? describeInit(initDir) : existing ? recordedInit(runDir) : null,
  };
  log(
    `training ${config.name}${o.width !== 1 ? ` (width ${o.width})` : ""} on ${dataset}: ${trainSet.count} train / ${val.count} val` +
      `${teacher ? `, KD from ${teacher.config.name} (lambda ${o.lambda}, T ${o.T}${o.t2Scaling ? ", T^2" : ""})` : ""} -> ${runDir}`,
  );
  const result = await train({
    runDir,
    buildModel: () => buildModel(tf, config, buildOpts),
    train: trainSet,
    val,
    classes: config.classes,
    normalisation,
    hyper: hyperParams(o),
    loss,
    augment: augment
      ? (images, count, seed) =>
          augmentBatch(
            images,
            trainSet.shape,
            count,
            makeRng(seed),
            // digits: small shifts only (a flipped digit is another symbol)
            dataset === "mnist" ? { pad: 2, flip: false } : {},
          )
      : null,
    teacherLogits,
    parallel:
      workers > 1
        ? {
            workers,
            backend: backendName === "cpu" ? "cpu" : "wasm",
            model: {
              module: TRAINER_WORKER_MODULE,
              exportName: "buildZooModel",
              args: [config, buildOpts],
            },
            loss: { module: TRAINER_WORKER_MODULE, exportName: "packedKdLoss", args: [kd] },
          }
        : null,
    runInfo,
    resume: o.resume,
    initWeightsDir: initDir,
    signal: o.signal,
    progress: o.progress,
    log,
  });
  let testAcc: number | null = null;
  if (!result.stopped && o.testAtEnd !== false) {
    const test = await loadDataset(dataset, "test");
    const best = loadTrainedModel(tf, runDir, "best");
    testAcc = evaluateFloat(best.model, test, normalisation).acc;
    best.model.dispose();
    writeJsonAtomic(join(runDir, "final.json"), {
      bestEpoch: result.best?.epoch ?? null,
      bestValAcc: result.best?.valAcc ?? null,
      testAcc,
      testCount: test.count,
      checkpoint: resolveCheckpoint(runDir, "best").modelDir,
    });
    log(
      `best epoch ${result.best?.epoch}: val ${(100 * (result.best?.valAcc ?? 0)).toFixed(2)}%, test ${(100 * testAcc).toFixed(2)}% (${test.count} images)`,
    );
  }
  return { ...result, testAcc, config };
}
