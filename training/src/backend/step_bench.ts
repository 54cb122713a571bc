import * as tf from "@tensorflow/tfjs";
import { Adam } from "../trainer/adam";
import { buildModel } from "../zoo/build";
import { loadModelConfig } from "../zoo/config";
import { type KernelProfile, profileKernels } from "./profile";

/** A zoo model to time: config name (configs/models) and width multiplier. */
export interface StepModel {
  model: string;
  width?: number;
}

export interface StepTimingOptions {
  batch: number;
  /** Timed steps (after `warmup` untimed ones). */
  steps: number;
  warmup?: number;
  seed?: number;
}

export interface StepTiming {
  label: string;
  batch: number;
  /** Wall-clock ms of each timed step. */
  stepMs: number[];
  medianMs: number;
  minMs: number;
  /**
   * CPU ms (user + system) of this process per step, median: on a machine shared with
   * other jobs this moves much less than wall time (the process waits, it does not work).
   */
  cpuMedianMs: number;
}

export function stepLabel(m: StepModel): string {
  return m.width === undefined || m.width === 1 ? m.model : `${m.model} w${m.width}`;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/**
 * A training step as the trainer runs it: forward in training mode, softmax
 * cross-entropy, argmax read back, gradients of every trainable variable, Adam update.
 * Returns `step()` (runs one, synchronously) and `dispose()`. Inputs are random.
 */
export function makeTrainStep(
  m: StepModel,
  batch: number,
  seed = 1,
): { step: () => void; dispose: () => void } {
  const config = loadModelConfig(m.model);
  const model = buildModel(tf, config, { seed, width: m.width ?? 1 });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const adam = new Adam(vars);
  const [h, w, c] = config.input;
  const x = tf.randomUniform([batch, h, w, c], -2, 2, "float32", seed);
  const labels = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => (i * 7 + seed) % config.classes),
    "int32",
  );
  const y = tf.oneHot(labels, config.classes);
  const step = () => {
    const { value, grads } = tf.tidy(() =>
      tf.variableGrads(() => {
        const logits = model.apply(x, { training: true }) as tf.Tensor2D;
        tf.argMax(logits, 1).dataSync();
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      }, vars),
    );
    value.dataSync();
    const gl = vars.map((v) => grads[v.name]!);
    adam.apply(gl, 1e-3);
    tf.dispose([value, ...gl]);
  };
  return {
    step,
    dispose: () => {
      tf.dispose([x, labels, y]);
      adam.dispose();
      model.dispose();
    },
  };
}

/** ms per training step of a zoo model on the current backend (median of `steps`). */
export function timeTrainSteps(m: StepModel, opts: StepTimingOptions): StepTiming {
  const { step, dispose } = makeTrainStep(m, opts.batch, opts.seed);
  try {
    for (let i = 0; i < (opts.warmup ?? 1); i++) step();
    const stepMs: number[] = [];
    const cpuMs: number[] = [];
    for (let i = 0; i < opts.steps; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      step();
      stepMs.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpuMs.push((c.user + c.system) / 1000);
    }
    return {
      label: stepLabel(m),
      batch: opts.batch,
      stepMs,
      medianMs: median(stepMs),
      minMs: Math.min(...stepMs),
      cpuMedianMs: median(cpuMs),
    };
  } finally {
    dispose();
  }
}

/** Per-kernel self time over `steps` training steps (after one warm-up step). */
export async function profileTrainSteps(
  m: StepModel,
  batch: number,
  steps: number,
  opts: { byShape?: boolean } = {},
): Promise<KernelProfile> {
  const { step, dispose } = makeTrainStep(m, batch);
  try {
    step();
    return await profileKernels(
      tf,
      tf.getBackend(),
      () => {
        for (let i = 0; i < steps; i++) step();
      },
      opts,
    );
  } finally {
    dispose();
  }
}

/** Builds a zoo model by name (for DataParallel workers: `STEP_BENCH_MODULE`, "buildStepModel"). */
export function buildStepModel(model: string, width = 1, seed = 1): tf.LayersModel {
  return buildModel(tf, loadModelConfig(model), { seed, width });
}

/** Module URL of this file, for DataParallel's ModelSpec (`exportName: "buildStepModel"`). */
export const STEP_BENCH_MODULE: string = new URL("./step_bench.ts", import.meta.url).href;

export interface ParallelTiming {
  label: string;
  batch: number;
  workers: number;
  /** Wall ms of the gradients of one batch on this thread (median). */
  singleMs: number;
  /** Wall ms of the same through DataParallel (weights out, shards, averaging; median). */
  parallelMs: number;
  speedup: number;
}

/**
 * Gradients of one batch of a zoo model: on this thread vs DataParallel over `workers`
 * threads (wall time: what a trainer waits for). Alternates the two `steps` times so that
 * load from other jobs hits both alike.
 */
export async function timeDataParallel(
  m: StepModel,
  batch: number,
  steps: number,
  workers = 2,
): Promise<ParallelTiming> {
  const { DataParallel } = await import("./parallel");
  const config = loadModelConfig(m.model);
  const model = buildStepModel(m.model, m.width ?? 1);
  const [h, w, c] = config.input;
  const xData = Float32Array.from({ length: batch * h * w * c }, (_, i) => Math.sin(i));
  const yData = new Float32Array(batch * config.classes);
  for (let i = 0; i < batch; i++) yData[i * config.classes + (i % config.classes)] = 1;
  const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const single = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(xData, [batch, h, w, c]);
      const y = tf.tensor2d(yData, [batch, config.classes]);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
        vars,
      );
      value.dataSync();
      for (const g of Object.values(grads)) g.dataSync();
    });
  const dp = await DataParallel.create({
    model: {
      module: STEP_BENCH_MODULE,
      exportName: "buildStepModel",
      args: [m.model, m.width ?? 1],
    },
    workers,
  });
  try {
    const weights = model.getWeights().map((t) => Float32Array.from(t.dataSync()));
    const xa = { data: xData, shape: [batch, h, w, c] };
    const ya = { data: yData, shape: [batch, config.classes] };
    single();
    await dp.gradients(weights, xa, ya);
    const s: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < steps; i++) {
      let t0 = performance.now();
      single();
      s.push(performance.now() - t0);
      t0 = performance.now();
      await dp.gradients(weights, xa, ya);
      p.push(performance.now() - t0);
    }
    const singleMs = median(s);
    const parallelMs = median(p);
    return {
      label: stepLabel(m),
      batch,
      workers,
      singleMs,
      parallelMs,
      speedup: singleMs / parallelMs,
    };
  } finally {
    await dp.close();
    model.dispose();
  }
}
