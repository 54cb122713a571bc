import {
  type BackendName,
  DataParallel,
  initBackend,
  originalWasmKernel,
  smallConvNet,
  type Tf,
  TRAIN_STEP_MODULE,
  trainStep,
} from "@cbnn/training";
import { writeResults } from "./results";
import { fmt, type TimingStats, timeIt } from "./stats";
import type { Suite, SuiteOptions } from "./types";

interface StepConfig {
  inputShape: [number, number, number];
  batch: number;
}

/** ms per training step (forward, gradients, Adam update) of the small convnet. */
async function stepTiming(tf: Tf, cfg: StepConfig, repeats: number): Promise<TimingStats> {
  const model = smallConvNet(cfg.inputShape, 10, 1);
  const opt = tf.train.adam(1e-3);
  const [h, w, c] = cfg.inputShape;
  const x = tf.randomUniform([cfg.batch, h, w, c], 0, 1, "float32", 1);
  const labels = tf.tensor1d(
    Array.from({ length: cfg.batch }, (_, i) => i % 10),
    "int32",
  );
  const y = tf.oneHot(labels, 10);
  const step = () => {
    const { loss, grads } = trainStep(model, opt, x, y);
    loss.dataSync();
    tf.dispose([loss, ...Object.values(grads)]);
  };
  const s = await timeIt(step, repeats, 1);
  tf.dispose([x, y, labels]);
  model.dispose();
  opt.dispose();
  return s;
}

/**
 * Gradients of one batch: on this thread vs DataParallel over 2 worker threads (each its
 * own wasm instance; includes sending weights and shards, and averaging).
 */
async function parallelTiming(tf: Tf, cfg: StepConfig, repeats: number) {
  const model = smallConvNet(cfg.inputShape, 10, 1);
  const [h, w, c] = cfg.inputShape;
  const x = tf.randomUniform([cfg.batch, h, w, c], 0, 1, "float32", 1);
  const labels = tf.tensor1d(
    Array.from({ length: cfg.batch }, (_, i) => i % 10),
    "int32",
  );
  const y = tf.oneHot(labels, 10);
  const single = await timeIt(() => {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as typeof x),
        model.trainableWeights.map((v) => v.read() as never),
      );
      value.dataSync();
      for (const g of Object.values(grads)) g.dataSync();
    });
  }, repeats);
  const dp = await DataParallel.create({
    model: { module: TRAIN_STEP_MODULE, exportName: "smallConvNet", args: [cfg.inputShape, 10, 1] },
    workers: 2,
  });
  try {
    const weights = model.getWeights().map((t) => Float32Array.from(t.dataSync()));
    const xa = { data: Float32Array.from(x.dataSync()), shape: x.shape };
    const ya = { data: Float32Array.from(y.dataSync()), shape: y.shape };
    const parallel = await timeIt(async () => {
      await dp.gradients(weights, xa, ya);
    }, repeats);
    return { single, parallel, speedup: single.medianMs / parallel.medianMs };
  } finally {
    await dp.close();
    tf.dispose([x, y, labels]);
    model.dispose();
  }
}

/** Kernels replaced only for speed (the others are missing or wrong on wasm). */
const PERF_ONLY = ["Conv2DBackpropInput", "BatchMatMul", "_FusedMatMul", "Tile", "Sum", "Mean"];

/** Run `f` with wasm's own versions of `names` put back, then restore ours. */
async function withOriginals<T>(tf: Tf, names: string[], f: () => Promise<T>): Promise<T> {
  const mine = names.map((n) => tf.getKernel(n, "wasm"));
  names.forEach((n) => {
    const orig = originalWasmKernel(n);
    if (orig == null) throw new Error(`no original wasm kernel ${n}`);
    tf.unregisterKernel(n, "wasm");
    tf.registerKernel(orig);
  });
  try {
    return await f();
  } finally {
    names.forEach((n, i) => {
      tf.unregisterKernel(n, "wasm");
      tf.registerKernel(mine[i]!);
    });
  }
}

/** Time `f` with our kernel and with wasm's own (temporarily put back). */
async function oursVsOriginal(
  tf: Tf,
  kernelName: string,
  f: () => void,
  repeats: number,
): Promise<{ ours: TimingStats; original: TimingStats }> {
  const ours = await timeIt(() => tf.tidy(f), repeats);
  const mine = tf.getKernel(kernelName, "wasm");
  const orig = originalWasmKernel(kernelName);
  if (mine == null || orig == null) throw new Error(`no original wasm kernel ${kernelName}`);
  tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel(orig);
  try {
    const original = await timeIt(() => tf.tidy(f), repeats);
    return { ours, original };
  } finally {
    tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel(mine);
  }
}

async function kernelComparisons(tf: Tf, quick: boolean) {
  const r = quick ? 2 : 5;
  const n = quick ? 4 : 16;
  const rnd = (shape: number[], seed: number) =>
    tf.randomNormal(shape, 0, 1, "float32", seed).dataSync();
  const dy = tf.tensor4d(rnd([n, 16, 16, 32], 2), [n, 16, 16, 32]);
  const w = tf.tensor4d(rnd([3, 3, 32, 32], 3), [3, 3, 32, 32]);
  const a = tf.randomNormal([256, 512], 0, 1, "float32", 4);
  const b = tf.randomNormal([256, 512], 0, 1, "float32", 5);
  const g = tf.randomNormal([1, 1, 1, 32], 0, 1, "float32", 6);
  const out: Record<string, { ours: TimingStats; original: TimingStats; what: string }> = {};
  const add = async (name: string, what: string, f: () => void) => {
    out[name] = { what, ...(await oursVsOriginal(tf, name, f, r)) };
  };
  await add(`Conv2DBackpropInput`, `dy [${n},16,16,32], filter 3x3x32x32, stride 1 same`, () => {
    tf.conv2dTranspose(dy, w, [n, 16, 16, 32], 1, "same").dataSync();
  });
  await add("BatchMatMul", "[256,512] x [256,512]^T (transposeB)", () => {
    tf.matMul(a, b, false, true).dataSync();
  });
  await add("Tile", `[1,1,1,32] -> [${4 * n},16,16,32] (batch-norm gradient)`, () => {
    tf.tile(g, [4 * n, 16, 16, 1]).dataSync();
  });
  tf.dispose([dy, w, a, b, g]);
  return out;
}

export async function runBackendBench(opts: SuiteOptions & { backend?: "auto" | "wasm" }) {
  const cfg: StepConfig = { inputShape: [28, 28, 1], batch: opts.quick ? 16 : 64 };
  const chosen = await initBackend({ backend: opts.backend ?? "auto" });
  const name: BackendName = chosen.name;
  const tf = chosen.tf;
  console.log(
    `small convnet (conv3x3x16+BN+ReLU+MP, separable3x3x32 s2+BN+ReLU+MP, dense 10), ` +
      `input ${cfg.inputShape.join("x")}, batch ${cfg.batch}; one step = forward + grads + Adam`,
  );
  const main = await stepTiming(tf, cfg, opts.quick ? 3 : 10);
  console.log(`  ${name}: ${fmt(main)}`);
  await tf.setBackend("cpu");
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  const cpu = await stepTiming(tf, cfg, opts.quick ? 2 : 5);
  console.log(`  cpu: ${fmt(cpu)}`);
  await tf.setBackend(name);
  const ratio = cpu.medianMs / main.medianMs;
  console.log(`  ratio cpu/${name} (medians): ${ratio.toFixed(1)}x`);

  let kernels: Awaited<ReturnType<typeof kernelComparisons>> | undefined;
  let wasmOwnKernels: TimingStats | undefined;
  if (name === "wasm") {
    wasmOwnKernels = await withOriginals(tf, PERF_ONLY, () =>
      stepTiming(tf, cfg, opts.quick ? 3 : 10),
    );
    console.log(
      `  wasm with its own kernels wherever they are only slow (${PERF_ONLY.join(", ")}): ${fmt(wasmOwnKernels)}` +
        ` -> our replacements make a step ${(wasmOwnKernels.medianMs / main.medianMs).toFixed(1)}x faster`,
    );
    console.log("wasm kernels, ours vs wasm's own (same run):");
    kernels = await kernelComparisons(tf, opts.quick);
    for (const [k, v] of Object.entries(kernels)) {
      const x = v.original.medianMs / v.ours.medianMs;
      console.log(
        `  ${k} ${v.what}: ours ${v.ours.medianMs.toFixed(1)} ms, wasm ${v.original.medianMs.toFixed(1)} ms (${x.toFixed(1)}x)`,
      );
    }
  }
  let dataParallel: Awaited<ReturnType<typeof parallelTiming>> | undefined;
  if (name === "wasm") {
    const pcfg: StepConfig = { inputShape: [28, 28, 1], batch: opts.quick ? 32 : 128 };
    dataParallel = await parallelTiming(tf, pcfg, opts.quick ? 3 : 8);
    console.log(
      `gradients of a batch of ${pcfg.batch}: this thread ${fmt(dataParallel.single)}; ` +
        `DataParallel x2 workers ${fmt(dataParallel.parallel)}; speedup ${dataParallel.speedup.toFixed(2)}x`,
    );
  }
  const file = writeResults("backend", {
    dataParallel,
    quick: opts.quick,
    config: cfg,
    backend: name,
    step: { [name]: main, cpu },
    ratioCpuOverBackend: ratio,
    wasmOwnSlowKernels: wasmOwnKernels,
    kernels,
  });
  console.log(`wrote ${file}`);
}

export const backendSuite: Suite = {
  describe: "ms per training step of a small convnet: chosen backend vs cpu; wasm kernel fixes",
  run: (opts) => runBackendBench(opts),
};
