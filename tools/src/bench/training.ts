/**
 * `pnpm bench training`: training speed of the students (MnistNet3,
 * CifarNet2 separable) with the KD loss (eq. 5) and of the VGG16 teacher at
 * two widths: ms per step (forward, gradients, Adam) over a few steps on the
 * chosen tfjs backend, and the epoch time that implies (55,000 MNIST or
 * 45,000 CIFAR-10 training images, as the trainer splits them). Then
 * `pnpm train --workers 2`'s data parallelism: the gradients of one batch on
 * this thread vs over two worker threads, alternated in the same run.
 */
import {
  Adam,
  buildModel,
  countParams,
  initBackend,
  kdLoss,
  loadModelConfig,
  type ParallelTiming,
  type Tf,
  timeDataParallel,
} from "@cbnn/training";
import { writeResults } from "./results";
import { fmt, type TimingStats, timeIt } from "./stats";
import type { Suite, SuiteOptions } from "./types";

export interface TrainingCase {
  model: string;
  width: number;
  role: "student" | "teacher";
  /** KD loss with random teacher logits (students), plain cross-entropy (teachers). */
  loss: string;
  batch: number;
  params: number;
  step: TimingStats;
  imagesPerSec: number;
  /** Training images per epoch the trainer uses (after the 5,000 validation hold-out). */
  epochImages: number;
  /** floor(epochImages / batch) x median step, seconds. */
  epochS: number;
}

export interface TrainingResults {
  quick: boolean;
  durationS: number;
  backend: string;
  cases: TrainingCase[];
  /** Gradients of one batch: this thread vs DataParallel (absent in older results). */
  parallel?: ParallelTiming[];
}

const EPOCH_IMAGES: Record<string, number> = { mnist: 55_000, cifar10: 45_000 };

async function timeSteps(
  tf: Tf,
  name: string,
  width: number,
  batch: number,
  repeats: number,
): Promise<TrainingCase> {
  const config = loadModelConfig(name);
  const model = buildModel(tf, config, { seed: 1, width });
  const vars = model.trainableWeights.map((w) => w.read() as ReturnType<Tf["variable"]>);
  const adam = new Adam(vars);
  const [h, w, c] = config.input;
  const x = tf.randomNormal([batch, h, w, c], 0, 1, "float32", 1);
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % config.classes),
    "int32",
  );
  const student = config.role === "student";
  const teacher = student ? tf.randomNormal([batch, config.classes], 0, 3, "float32", 2) : null;
  const step = () => {
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.apply(x, { training: true }) as ReturnType<Tf["tensor2d"]>;
      return kdLoss(tf, y, logits, teacher, { lambda: student ? 0.1 : 1, T: 10 });
    }, vars);
    value.dataSync();
    const gl = vars.map((v) => grads[v.name]!);
    adam.apply(gl, 1e-3);
    tf.dispose([value, ...gl]);
  };
  const s = await timeIt(step, repeats, 1);
  const epochImages = EPOCH_IMAGES[config.dataset] ?? 0;
  const out: TrainingCase = {
    model: name,
    width,
    role: student ? "student" : "teacher",
    loss: student ? "KD eq. (5), lambda 0.1, T 10" : "cross-entropy",
    batch,
    params: countParams(model),
    step: s,
    imagesPerSec: (batch * 1000) / s.medianMs,
    epochImages,
    epochS: (Math.floor(epochImages / batch) * s.medianMs) / 1000,
  };
  tf.dispose([x, y, ...(teacher ? [teacher] : [])]);
  adam.dispose();
  model.dispose();
  return out;
}

export async function runTrainingBench(opts: SuiteOptions): Promise<TrainingResults> {
  const t0 = performance.now();
  const { tf, name: backend } = await initBackend({});
  const q = opts.quick;
  const plan: [string, number, number][] = [
    ["mnistnet3", 1, q ? 64 : 128],
    ["cifarnet2", 1, q ? 32 : 128],
    ["vgg16", 0.25, q ? 16 : 128],
    ["vgg16", 1, q ? 4 : 32],
  ];
  const cases: TrainingCase[] = [];
  for (const [name, width, batch] of plan) {
    const r = await timeSteps(tf, name, width, batch, q ? 2 : 5);
    console.log(
      `  ${name} width ${width} batch ${batch} (${r.params} params): step ${fmt(r.step)}, ${r.imagesPerSec.toFixed(1)} img/s, epoch ~${r.epochS.toFixed(0)} s`,
    );
    cases.push(r);
  }
  const parallel: ParallelTiming[] = [];
  const parallelPlan: [string, number][] = [
    ["cifarnet2", 1],
    ["vgg16", 0.25],
    ["resnet18", 0.25],
  ];
  for (const [model, width] of parallelPlan) {
    const batch = q ? 16 : 128;
    const p = await timeDataParallel({ model, width }, batch, q ? 1 : 4, 2);
    console.log(
      `  ${p.label} batch ${batch} gradients: one thread ${p.singleMs.toFixed(0)} ms, 2 workers ${p.parallelMs.toFixed(0)} ms, ratio ${p.speedup.toFixed(2)}x`,
    );
    parallel.push(p);
  }
  const durationS = (performance.now() - t0) / 1000;
  const results: TrainingResults = { quick: q, durationS, backend, cases, parallel };
  console.log(`wrote ${writeResults("training", results)} (${durationS.toFixed(0)} s)`);
  return results;
}

export const trainingSuite: Suite = {
  describe:
    "ms per training step (KD students MnistNet3, CifarNet2; VGG16 teacher at widths 0.25 and 1) and the epoch time implied; one thread vs 2 gradient workers",
  run: async (opts) => {
    await runTrainingBench(opts);
  },
};
