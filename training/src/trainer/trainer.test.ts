import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LATEST_JSON, loadCheckpointState, readLatest } from "../checkpoint/checkpoint";
import { loadWeightsInto } from "../checkpoint/model-io";
import {
  crossEntropy,
  syntheticSplit,
  TEST_HELPERS_MODULE,
  tinyModel,
  tinyPlainModel,
} from "./test-helpers";
import {
  decayMask,
  evaluateFloat,
  type HyperParams,
  type ParallelOptions,
  type TrainerOptions,
  train,
} from "./trainer";
import { TRAINER_WORKER_MODULE } from "./worker-entry";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cbnn-trainer-"));
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const trainSet = syntheticSplit(256, 1);
const val = syntheticSplit(64, 2);
const norm = { mean: [110], std: [50] };

function options(runDir: string, hyper: Partial<HyperParams> = {}): TrainerOptions {
  return {
    runDir,
    buildModel: () => tinyModel(7),
    train: trainSet,
    val,
    classes: 4,
    normalisation: norm,
    hyper: {
      epochs: 3,
      batchSize: 32,
      microBatch: 32,
      lr: 0.01,
      lrSchedule: "cosine",
      seed: 5,
      ...hyper,
    },
    loss: crossEntropy,
    progress: false,
    log: () => {},
  };
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((t) => t.dataSync() as Float32Array);
}

describe("train", () => {
  it("learns the synthetic task and writes history, latest and best", async () => {
    const dir = tmp();
    const r = await train(options(dir));
    expect(r.stopped).toBe(false);
    expect(r.history).toHaveLength(3);
    expect(r.history[2].valAcc).toBeGreaterThan(0.9);
    const latest = readLatest(dir)!;
    expect(latest.done).toBe(true);
    expect(latest.epoch).toBe(3);
    const hist = JSON.parse(readFileSync(join(dir, "history.json"), "utf8"));
    expect(hist).toHaveLength(3);
    // Only the latest and best checkpoints are kept, no temp leftovers.
    const ckpts = readdirSync(dir).filter((e) => e.startsWith("ckpt-") || e.startsWith(".tmp"));
    expect(ckpts.every((e) => e === latest.latest || e === latest.best)).toBe(true);
  });

  it("resumes after a stop at an epoch boundary bit-identically", async () => {
    const full = await train(options(tmp()));
    const dir = tmp();
    const part = await train({ ...options(dir), stopAfterEpochs: 1 });
    expect(part.stopped).toBe(true);
    expect(readLatest(dir)!.epoch).toBe(1);
    await expect(train(options(dir))).rejects.toThrow(/--resume/);
    const resumed = await train({ ...options(dir), resume: true });
    expect(resumed.history).toEqual(
      full.history.map((h, i) => ({
        ...h,
        seconds: resumed.history[i].seconds,
        imagesPerSecond: resumed.history[i].imagesPerSecond,
      })),
    );
    const a = weightsOf(full.model);
    const b = weightsOf(resumed.model);
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) {
      expect(Buffer.from(b[i].buffer).equals(Buffer.from(a[i].buffer))).toBe(true);
    }
  });

  it("resumes mid-epoch (as after Ctrl-C) bit-identically, with gradient accumulation", async () => {
    const hyper = { epochs: 2, microBatch: 8 };
    const full = await train(options(tmp(), hyper));
    const dir = tmp();
    const ctrl = new AbortController();
    const stopping = { ...options(dir, hyper), stopAfterSteps: 11 };
    const part = await train({ ...stopping, signal: ctrl.signal });
    expect(part.stopped).toBe(true);
    expect(readLatest(dir)!.step).toBe(3); // 8 steps per epoch: stopped in epoch 2 at step 3
    const resumed = await train({ ...options(dir, hyper), resume: true });
    const a = weightsOf(full.model);
    const b = weightsOf(resumed.model);
    for (let i = 0; i < a.length; i++) {
      expect(Buffer.from(b[i].buffer).equals(Buffer.from(a[i].buffer))).toBe(true);
    }
    expect(resumed.history.map((h) => h.trainLoss)).toEqual(full.history.map((h) => h.trainLoss));
  });

  it("stops on an aborted signal with a checkpoint", async () => {
    const dir = tmp();
    const ctrl = new AbortController();
    ctrl.abort();
    const r = await train({ ...options(dir), signal: ctrl.signal });
    expect(r.stopped).toBe(true);
    const l = readLatest(dir)!;
    expect(l.step).toBe(1);
    expect(existsSync(join(dir, l.latest, "weights.bin"))).toBe(true);
    expect(existsSync(join(dir, LATEST_JSON))).toBe(true);
  });

  it("refuses to resume with a different seed", async () => {
    const dir = tmp();
    await train({ ...options(dir), stopAfterEpochs: 1 });
    await expect(train({ ...options(dir, { seed: 6 }), resume: true })).rejects.toThrow(
      /hyper.seed/,
    );
  });

  it("a resume whose model does not fit the checkpoint fails and leaves run.json as it was", async () => {
    const dir = tmp();
    await train({ ...options(dir), runInfo: { model: "a" }, stopAfterEpochs: 1 });
    const before = readFileSync(join(dir, "run.json"), "utf8");
    await expect(
      train({
        ...options(dir),
        runInfo: { model: "b" },
        buildModel: () => tinyModel(7, [8, 8, 1], 5),
        resume: true,
      }),
    ).rejects.toThrow(/has shape/);
    expect(readFileSync(join(dir, "run.json"), "utf8")).toBe(before);
  });

  it("rejects bad hyper-parameters", async () => {
    await expect(train(options(tmp(), { microBatch: 64 }))).rejects.toThrow(/micro-batch/);
    await expect(train(options(tmp(), { lr: 0 }))).rejects.toThrow(/lr/);
    await expect(train(options(tmp(), { weightDecay: -0.1 }))).rejects.toThrow(/weight decay/);
  });

  it("weight decay applies to kernels only and shrinks them", async () => {
    const m = tinyModel(7);
    const mask = decayMask(m);
    m.trainableWeights.forEach((w, i) => {
      expect(mask[i]).toBe(w.originalName.endsWith("/kernel"));
    });
    expect(mask.filter(Boolean)).toHaveLength(2); // conv and dense kernels, not biases or BN
    const norm2 = (model: tf.LayersModel) =>
      model.trainableWeights
        .filter((_, i) => mask[i])
        .reduce((s, w) => s + tf.sum(tf.square(w.read())).dataSync()[0], 0);
    const plain = await train(options(tmp()));
    const decayed = await train(options(tmp(), { weightDecay: 5 }));
    expect(norm2(decayed.model)).toBeLessThan(0.9 * norm2(plain.model));
  });

  it("resumes a run recorded without weight decay only with none", async () => {
    const dir = tmp();
    await train({ ...options(dir), stopAfterEpochs: 1 });
    await expect(train({ ...options(dir, { weightDecay: 0.01 }), resume: true })).rejects.toThrow(
      /hyper.weightDecay was 0, now 0.01/,
    );
    const r = await train({ ...options(dir, { weightDecay: 0 }), resume: true });
    expect(r.history).toHaveLength(3);
  });
});

describe("train with --ema", () => {
  /** The weights a checkpoint's model.json holds, loaded into a fresh model. */
  function checkpointModel(dir: string): tf.LayersModel {
    const m = tinyModel(7);
    loadWeightsInto(m, dir);
    return m;
  }
  const bits = (a: Float32Array[], b: Float32Array[]) =>
    a.length === b.length &&
    a.every((x, i) => Buffer.from(x.buffer).equals(Buffer.from(b[i]!.buffer)));

  it("validates and checkpoints the moving average, keeps the trained weights beside it, and resumes mid-epoch bit-identically", async () => {
    const hyper = { epochs: 2, ema: 0.9 };
    const full = await train(options(tmp(), hyper));
    const fullLatest = join(full.runDir, readLatest(full.runDir)!.latest);
    // the trained weights are saved beside the checkpoint's, which are their average
    const tw = loadCheckpointState(fullLatest).trainWeights!;
    expect(bits(tw.values, weightsOf(full.model))).toBe(true);
    const avg = checkpointModel(fullLatest);
    expect(bits(weightsOf(avg), weightsOf(full.model))).toBe(false);
    // the validation accuracy recorded is the average's
    expect(evaluateFloat(avg, val, norm).acc).toBe(full.history[1]!.valAcc);
    expect(JSON.parse(readFileSync(join(full.runDir, "run.json"), "utf8")).hyper.ema).toBe(0.9);

    const dir = tmp();
    const part = await train({ ...options(dir, hyper), stopAfterSteps: 11 });
    expect(part.stopped).toBe(true);
    expect(readLatest(dir)!.step).toBe(3);
    await expect(train({ ...options(dir, { epochs: 2 }), resume: true })).rejects.toThrow(
      /hyper.ema was 0.9, now 0 \(--ema/,
    );
    const resumed = await train({ ...options(dir, hyper), resume: true });
    expect(bits(weightsOf(resumed.model), weightsOf(full.model))).toBe(true);
    const latest = join(dir, readLatest(dir)!.latest);
    expect(bits(weightsOf(checkpointModel(latest)), weightsOf(avg))).toBe(true);
    expect(resumed.history.map((h) => h.valAcc)).toEqual(full.history.map((h) => h.valAcc));
  });

  it("leaves plain runs' checkpoints without train weights; an --ema resume without them is refused", async () => {
    const dir = tmp();
    await train({ ...options(dir), stopAfterEpochs: 1 });
    const ckpt = join(dir, readLatest(dir)!.latest);
    expect(existsSync(join(ckpt, "train-weights.bin"))).toBe(false);
    expect(loadCheckpointState(ckpt).trainWeights).toBeUndefined();
    // a damaged --ema checkpoint (its trained weights gone) cannot be resumed from
    const emaDir = tmp();
    await train({ ...options(emaDir, { ema: 0.9 }), stopAfterEpochs: 1 });
    const emaCkpt = join(emaDir, readLatest(emaDir)!.latest);
    rmSync(join(emaCkpt, "train-weights.json"));
    rmSync(join(emaCkpt, "train-weights.bin"));
    await expect(train({ ...options(emaDir, { ema: 0.9 }), resume: true })).rejects.toThrow(
      /no train-weights\.bin, which resuming with --ema needs/,
    );
    await expect(train(options(tmp(), { ema: 1 }))).rejects.toThrow(
      /ema must be 0 \(off\) or in \(0, 1\)/,
    );
  });
});

describe("train with --workers (DataParallel)", () => {
  const parallel = (exportName: string): ParallelOptions => ({
    workers: 2,
    backend: "cpu",
    model: { module: TEST_HELPERS_MODULE, exportName, args: [7] },
    loss: { module: TRAINER_WORKER_MODULE, exportName: "packedKdLoss", args: [null] },
  });

  it("matches one-thread training where sharding cannot matter (no BN, no dropout)", async () => {
    const hyper = { epochs: 1 };
    const plain = (dir: string) => ({
      ...options(dir, hyper),
      buildModel: () => tinyPlainModel(7),
    });
    const one = await train(plain(tmp()));
    const two = await train({ ...plain(tmp()), parallel: parallel("tinyPlainModel") });
    expect(two.history[0]!.workers).toBe(2);
    expect(one.history[0]!.workers).toBeUndefined();
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    expect(rel(two.history[0]!.trainLoss, one.history[0]!.trainLoss)).toBeLessThan(1e-4);
    expect(two.history[0]!.trainAcc).toBe(one.history[0]!.trainAcc);
    const a = weightsOf(one.model);
    const b = weightsOf(two.model);
    for (let i = 0; i < a.length; i++) {
      const scale = Math.max(...a[i]!.map(Math.abs));
      const diff = Math.max(...a[i]!.map((v, j) => Math.abs(v - b[i]![j]!)));
      expect(diff / scale).toBeLessThan(1e-3);
    }
  }, 60_000);

  it("learns with BN and dropout, and resumes mid-epoch bit-identically", async () => {
    const hyper = { epochs: 2, microBatch: 16 };
    const opts = (dir: string) => ({ ...options(dir, hyper), parallel: parallel("tinyModel") });
    const full = await train(opts(tmp()));
    expect(full.history[1]!.valAcc).toBeGreaterThan(0.8);
    const dir = tmp();
    const part = await train({ ...opts(dir), stopAfterSteps: 11 });
    expect(part.stopped).toBe(true);
    const resumed = await train({ ...opts(dir), resume: true });
    const a = weightsOf(full.model);
    const b = weightsOf(resumed.model);
    for (let i = 0; i < a.length; i++) {
      expect(Buffer.from(b[i]!.buffer).equals(Buffer.from(a[i]!.buffer))).toBe(true);
    }
    expect(resumed.history.map((h) => h.trainLoss)).toEqual(full.history.map((h) => h.trainLoss));
  }, 120_000);

  it("a worker failing mid-run saves a checkpoint first; --resume continues", async () => {
    const dir = tmp();
    const failing: ParallelOptions = {
      ...parallel("tinyModel"),
      loss: { module: TEST_HELPERS_MODULE, exportName: "lossFailingAfter", args: [3] },
    };
    await expect(train({ ...options(dir), parallel: failing })).rejects.toThrow(
      /injected failure.*saved .* at epoch 1 step 3: continue with --resume/,
    );
    expect(readLatest(dir)).toMatchObject({ epoch: 0, step: 3 });
    const r = await train({ ...options(dir), parallel: parallel("tinyModel"), resume: true });
    expect(r.history).toHaveLength(3);
  }, 60_000);

  it("a worker failing between micro-batches leaves BN as it was: the resume is bit-identical", async () => {
    const hyper = { epochs: 2, microBatch: 16 };
    const failingAfter = (calls: number): ParallelOptions => ({
      ...parallel("tinyModel"),
      loss: { module: TEST_HELPERS_MODULE, exportName: "lossFailingAfter", args: [calls] },
    });
    const never = failingAfter(1e9);
    const full = await train({ ...options(tmp(), hyper), parallel: never });
    const dir = tmp();
    // two micro-batches per step, one loss call per worker each: the 6th call is the
    // second micro-batch of step 3, after the first one's BN statistics came back
    await expect(train({ ...options(dir, hyper), parallel: failingAfter(5) })).rejects.toThrow(
      /injected failure.*at epoch 1 step 2/,
    );
    const resumed = await train({ ...options(dir, hyper), parallel: never, resume: true });
    const a = weightsOf(full.model);
    const b = weightsOf(resumed.model);
    for (let i = 0; i < a.length; i++) {
      expect(Buffer.from(b[i]!.buffer).equals(Buffer.from(a[i]!.buffer))).toBe(true);
    }
  }, 120_000);

  it("refuses workers whose model differs from the trainer's", async () => {
    await expect(
      train({ ...options(tmp()), parallel: parallel("tinyPlainModel") }),
    ).rejects.toThrow(/workers' model has other weights/);
  }, 60_000);
});
