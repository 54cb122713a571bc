import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fetchDataset, loadDataset } from "@cbnn/datasets";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTrainedModel } from "../checkpoint/load";
import type { SignSTE } from "../layers";
import { computeLogits, teacherLogitsCached } from "./kd-cache";
import { defaultRunName, type RunOptions, runTraining, workersWarning } from "./run";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cbnn-run-"));
  dirs.push(d);
  return d;
}
beforeAll(async () => {
  await fetchDataset("mnist");
}, 120_000);
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const quiet = { progress: false as const, log: () => {} };
function opts(o: Partial<RunOptions>): RunOptions {
  return {
    model: "mnistnet1",
    lambda: 0.1,
    T: 10,
    t2Scaling: false,
    epochs: 2,
    batch: 128,
    lr: 1e-3,
    lrSchedule: "cosine",
    seed: 1,
    width: 1,
    resume: false,
    backend: "wasm",
    ...quiet,
    ...o,
  };
}

function sameWeights(a: tf.LayersModel, b: tf.LayersModel): boolean {
  const wa = a.getWeights();
  const wb = b.getWeights();
  if (wa.length !== wb.length) return false;
  for (let i = 0; i < wa.length; i++) {
    const x = Buffer.from((wa[i].dataSync() as Float32Array).buffer);
    const y = Buffer.from((wb[i].dataSync() as Float32Array).buffer);
    if (!x.equals(y)) return false;
  }
  return true;
}

describe("runTraining on MNIST", () => {
  it("MnistNet1, 2 epochs on the full training set, reaches > 90% test accuracy", async () => {
    const out = tmp();
    const r = await runTraining(opts({ out }));
    expect(r.stopped).toBe(false);
    expect(r.history).toHaveLength(2);
    expect(r.testAcc).toBeGreaterThan(0.9);
    const final = JSON.parse(readFileSync(join(out, "final.json"), "utf8"));
    expect(final.testAcc).toBe(r.testAcc);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(run.trainCount).toBe(55000);
    expect(run.valCount).toBe(5000);
  }, 180_000);

  it("a run stopped after epoch 1 and resumed ends with the weights of an uninterrupted run", async () => {
    const small = { limit: 3000, epochs: 2, batch: 64, testAtEnd: false };
    const full = await runTraining(opts({ ...small, out: tmp() }));
    const out = tmp();
    // Simulate a kill after epoch 1: a 1-epoch budget can not be used (the cosine
    // schedule depends on epochs), so stop via an abort raised after the first epoch.
    const ctrl = new AbortController();
    const part = await runTraining(
      opts({
        ...small,
        out,
        signal: ctrl.signal,
        progress: {
          update: () => {},
          line: (l) => {
            if (l.startsWith("epoch 1/2")) ctrl.abort();
          },
        },
      }),
    );
    expect(part.stopped).toBe(true);
    expect(part.history).toHaveLength(1);
    const resumed = await runTraining(opts({ ...small, out, resume: true }));
    expect(resumed.stopped).toBe(false);
    expect(sameWeights(full.model, resumed.model)).toBe(true);
    expect(resumed.history.map((h) => h.valAcc)).toEqual(full.history.map((h) => h.valAcc));
  }, 120_000);

  it("KD: teacher logits are computed once, cached, and reused; the key follows the weights", async () => {
    const teacherDir = tmp();
    await runTraining(opts({ limit: 1200, epochs: 1, out: teacherDir, testAtEnd: false }));
    const cacheDir = tmp();
    const teacher = loadTrainedModel(tf, teacherDir);
    const data = await loadDataset("mnist", "train", { limit: 500 });
    let loads = 0;
    const req = {
      teacherModelDir: teacher.modelDir,
      loadTeacher: () => {
        loads++;
        return loadTrainedModel(tf, teacherDir).model;
      },
      normalisation: teacher.run.normalisation,
      data,
      classes: 10,
      label: "mnist-train",
      cacheDir,
    };
    const a = teacherLogitsCached(req);
    expect(a.hit).toBe(false);
    expect(existsSync(a.path)).toBe(true);
    const b = teacherLogitsCached(req);
    expect(b.hit).toBe(true);
    expect(loads).toBe(1);
    expect(Buffer.from(b.logits.buffer).equals(Buffer.from(a.logits.buffer))).toBe(true);
    const direct = computeLogits(teacher.model, data, teacher.run.normalisation, 10);
    expect(Buffer.from(direct.buffer).equals(Buffer.from(a.logits.buffer))).toBe(true);
    // Other images -> other key.
    const other = teacherLogitsCached({ ...req, data: { ...data, count: 400 } });
    expect(other.hit).toBe(false);
    expect(other.key).not.toBe(a.key);

    // A student distilled from this teacher through runTraining uses the cache too.
    const studentOut = tmp();
    const logs: string[] = [];
    const s = await runTraining(
      opts({
        model: "mnistnet1",
        teacher: teacherDir,
        limit: 1200,
        epochs: 1,
        out: studentOut,
        kdCacheDir: cacheDir,
        testAtEnd: false,
        log: (l) => logs.push(l),
      }),
    );
    expect(s.history).toHaveLength(1);
    const s2 = await runTraining(
      opts({
        model: "mnistnet1",
        teacher: teacherDir,
        limit: 1200,
        epochs: 2,
        lrSchedule: "constant",
        out: tmp(),
        kdCacheDir: cacheDir,
        testAtEnd: false,
        log: (l) => logs.push(l),
      }),
    );
    expect(s2.history).toHaveLength(2);
    expect(logs.filter((l) => l.includes("computing"))).toHaveLength(1);
    expect(logs.filter((l) => l.includes("cache hit"))).toHaveLength(1);
    const run = JSON.parse(readFileSync(join(studentOut, "run.json"), "utf8"));
    expect(run.kd).toEqual({ lambda: 0.1, T: 10, t2Scaling: false });
    expect(run.teacher.model).toBe("mnistnet1");
  }, 120_000);

  it("--init starts a new run from another run's best weights (fresh optimizer and schedule)", async () => {
    const small = { limit: 1500, epochs: 1, batch: 64, testAtEnd: false };
    const baseOut = tmp();
    const base = await runTraining(opts({ ...small, out: baseOut }));
    const out = tmp();
    // A learning rate of 1e-12 leaves the trainable weights where --init put them.
    const r = await runTraining(
      opts({ ...small, init: baseOut, lr: 1e-12, lrSchedule: "constant", out }),
    );
    const maxDiff = (a: tf.LayersModel, b: tf.LayersModel) =>
      Math.max(
        ...a.trainableWeights.map((w, i) =>
          tf.tidy(
            () => tf.max(tf.abs(tf.sub(w.read(), b.trainableWeights[i].read()))).dataSync()[0],
          ),
        ),
      );
    expect(maxDiff(base.model, r.model)).toBeLessThan(1e-6);
    // ... whereas the same seed without --init starts from the seeded initialisation.
    const fresh = await runTraining(
      opts({ ...small, lr: 1e-12, lrSchedule: "constant", out: tmp() }),
    );
    expect(maxDiff(base.model, fresh.model)).toBeGreaterThan(1e-3);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(run.init.checkpoint).toBe(loadTrainedModel(tf, baseOut, "best").modelDir);
    expect(run.init.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    // ... with the run those weights came from and the epochs they hold, so a card counts them
    expect(run.init.run.hyper).toEqual(
      JSON.parse(readFileSync(join(baseOut, "run.json"), "utf8")).hyper,
    );
    expect(run.init.epochs).toBe(base.best?.epoch);
    expect(run.init.trainSeconds).toBeGreaterThan(0);
    // A continuation of the continuation adds up the chain.
    const out2 = tmp();
    await runTraining(opts({ ...small, init: out, lr: 1e-12, lrSchedule: "constant", out: out2 }));
    const run2 = JSON.parse(readFileSync(join(out2, "run.json"), "utf8"));
    expect(run2.init.epochs).toBe(run.init.epochs + 1);
    expect(run2.init.run.init.weightsSha256).toBe(run.init.weightsSha256);
    // Resuming a finished --init run (more epochs of a constant schedule) keeps its --init record.
    await runTraining(
      opts({ ...small, epochs: 2, lr: 1e-12, lrSchedule: "constant", out: out2, resume: true }),
    );
    expect(JSON.parse(readFileSync(join(out2, "run.json"), "utf8")).init).toEqual(run2.init);
    // --resume with --init on a folder holding no checkpoint yet (a run killed in its first
    // epoch) starts from --init's weights, not from the seeded initialisation, and says so.
    const logs: string[] = [];
    const out3 = tmp();
    const r3 = await runTraining(
      opts({
        ...small,
        init: baseOut,
        lr: 1e-12,
        lrSchedule: "constant",
        out: out3,
        resume: true,
        log: (l) => logs.push(l),
      }),
    );
    expect(maxDiff(base.model, r3.model)).toBeLessThan(1e-6);
    expect(
      logs.some((l) => l.includes("holds no checkpoint yet; starting a new run from --init")),
    ).toBe(true);
    expect(JSON.parse(readFileSync(join(out3, "run.json"), "utf8")).init.weightsSha256).toBe(
      run.init.weightsSha256,
    );
    // A plain --resume (no --init) of a run that recorded one but has no checkpoint yet
    // starts from the recorded --init (run.json is written before the first epoch).
    const out4 = tmp();
    await runTraining(
      opts({ ...small, init: baseOut, lr: 1e-12, lrSchedule: "constant", out: out4 }),
    );
    rmSync(join(out4, "latest.json"));
    const logs4: string[] = [];
    const r4 = await runTraining(
      opts({
        ...small,
        lr: 1e-12,
        lrSchedule: "constant",
        out: out4,
        resume: true,
        log: (l) => logs4.push(l),
      }),
    );
    expect(maxDiff(base.model, r4.model)).toBeLessThan(1e-6);
    expect(logs4.some((l) => l.includes("(recorded in its run.json)"))).toBe(true);
    // Starting again in a folder that holds a run, without --resume, is refused.
    await expect(runTraining(opts({ ...small, out: out3 }))).rejects.toThrow(
      /already holds a run \(ckpt-e0001\); pass --resume or choose another --out/,
    );
    // Another topology is refused with the offending weight named.
    await expect(
      runTraining(opts({ ...small, model: "mnistnet2", init: baseOut, out: tmp() })),
    ).rejects.toThrow(/weight|tensors/);
    await expect(runTraining(opts({ ...small, init: "no-such-run", out: tmp() }))).rejects.toThrow(
      /--init no-such-run/,
    );
  }, 120_000);

  it("--sign-grad approx builds every Sign with ApproxSign's gradient, records it, and resume refuses a change", async () => {
    const small = { limit: 1500, epochs: 1, batch: 64, testAtEnd: false };
    const out = tmp();
    const r = await runTraining(opts({ ...small, signGrad: "approx", out }));
    const signs = r.model.layers.filter((l) => l.getClassName() === "SignSTE") as SignSTE[];
    expect(signs.length).toBeGreaterThan(0);
    for (const l of signs) expect(l.signGrad).toBe("approx");
    expect(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).hyper.signGrad).toBe("approx");
    await expect(runTraining(opts({ ...small, out, resume: true }))).rejects.toThrow(
      /cannot resume, hyper.signGrad was approx, now ste \(--sign-grad: give the run's value\)/,
    );
    // nor may a resume change the teacher (a --config recipe names its own) or the KD settings
    await expect(
      runTraining(opts({ ...small, signGrad: "approx", teacher: "mnistnet4", out, resume: true })),
    ).rejects.toThrow(
      /cannot resume with another teacher: the run was distilled from none, now .*mnistnet4/,
    );
    const kdOut = tmp();
    const kd = { ...small, teacher: "mnistnet4", kdCacheDir: tmp() };
    await runTraining(opts({ ...kd, out: kdOut }));
    await expect(runTraining(opts({ ...kd, T: 5, out: kdOut, resume: true }))).rejects.toThrow(
      /cannot resume, KD settings were \{"lambda":0.1,"T":10,"t2Scaling":false\}, now \{"lambda":0.1,"T":5/,
    );
    await expect(runTraining(opts({ ...small, out: kdOut, resume: true }))).rejects.toThrow(
      /cannot resume with another teacher: the run was distilled from .*mnistnet4.*, now none/,
    );
    // the default leaves run.json as before: no signGrad field
    const plainOut = tmp();
    await runTraining(opts({ ...small, out: plainOut }));
    const runJson = readFileSync(join(plainOut, "run.json"), "utf8");
    expect(JSON.parse(runJson).hyper.signGrad).toBeUndefined();
    // nor may it change the network, whose weights would not fit; the run's record stays as it was
    const model = JSON.parse(runJson).model as string;
    await expect(
      runTraining(opts({ ...small, model: "mnistnet2", out: plainOut, resume: true })),
    ).rejects.toThrow(
      new RegExp(`cannot resume, model was ${model}, now mnistnet2 \\(--model: give the run's\\)`),
    );
    await expect(
      runTraining(opts({ ...small, width: 0.5, out: plainOut, resume: true })),
    ).rejects.toThrow(/cannot resume, width was 1, now 0.5 \(--width: give the run's\)/);
    expect(readFileSync(join(plainOut, "run.json"), "utf8")).toBe(runJson);
  }, 120_000);

  it("--pool-first trains pool-before-Sign, records it, resume refuses a change, and the checkpoint loads in the usual order", async () => {
    const small = { model: "mnistnet3", limit: 1000, epochs: 1, batch: 64, testAtEnd: false };
    const out = tmp();
    const r = await runTraining(opts({ ...small, poolFirst: true, out }));
    const names = r.model.layers.map((l) => l.name);
    expect(names.indexOf("b0_pool")).toBeLessThan(names.indexOf("b0_sign"));
    expect(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).hyper.poolFirst).toBe(true);
    await expect(runTraining(opts({ ...small, out, resume: true }))).rejects.toThrow(
      /cannot resume, hyper.poolFirst was true, now false \(--pool-first: give the run's value\)/,
    );
    const loaded = loadTrainedModel(tf, out);
    const loadedNames = loaded.model.layers.map((l) => l.name);
    expect(loadedNames.indexOf("b0_sign")).toBeLessThan(loadedNames.indexOf("b0_pool"));
    const { images, count } = await loadDataset("mnist", "test", { limit: 64 });
    const x = tf.tensor4d(
      Float32Array.from(images, (v) => v / 255),
      [count, 28, 28, 1],
    );
    expect(Array.from((loaded.model.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((r.model.predict(x) as tf.Tensor).dataSync()),
    );
    loaded.model.dispose();
  }, 120_000);

  it("--workers 2 distils with the KD loss in the workers, close to one thread", async () => {
    const kd = {
      model: "mnistnet1",
      teacher: "mnistnet4",
      limit: 2000,
      epochs: 1,
      batch: 64,
      kdCacheDir: tmp(),
      testAtEnd: false,
    };
    const one = await runTraining(opts({ ...kd, out: tmp() }));
    const logs: string[] = [];
    const two = await runTraining(
      opts({ ...kd, out: tmp(), workers: 2, log: (l) => logs.push(l) }),
    );
    expect(logs.some((l) => l.includes("gradients over 2 worker threads"))).toBe(true);
    expect(two.history[0]!.workers).toBe(2);
    // Batch norm over 32-row shards instead of 64-row batches moves the loss a little;
    // a worker loss without the teacher's soft term would be several times smaller.
    const rel = Math.abs(two.history[0]!.trainLoss - one.history[0]!.trainLoss);
    expect(rel / one.history[0]!.trainLoss).toBeLessThan(0.05);
    expect(Math.abs(two.history[0]!.valAcc - one.history[0]!.valAcc)).toBeLessThan(0.05);
    await expect(runTraining(opts({ ...kd, out: tmp(), workers: 0 }))).rejects.toThrow(/--workers/);
  }, 120_000);

  it("warns when workers outnumber idle cores", () => {
    expect(workersWarning(1, 2, 5)).toBeNull();
    expect(workersWarning(2, 2, 0.3)).toBeNull();
    expect(workersWarning(2, 2, 1.2)).toMatch(/load average 1.2/);
    expect(workersWarning(4, 2, 0)).toMatch(/4 on 2 cores/);
  });

  it("names runs from their settings", () => {
    const base = { model: "cifarnet2", width: 1, seed: 1, lambda: 0.1, T: 10, t2Scaling: false };
    expect(defaultRunName(base)).toBe("cifarnet2");
    expect(defaultRunName({ ...base, teacher: "runs/vgg16/", width: 0.5, seed: 3 })).toBe(
      "cifarnet2-w0.5-kd-vgg16-l0.1-T10-s3",
    );
  });

  it("rejects bad options with the flag's name", async () => {
    await expect(runTraining(opts({ lambda: 2 }))).rejects.toThrow(/--lambda/);
    await expect(runTraining(opts({ teacher: "no-such-teacher" }))).rejects.toThrow(
      /--teacher no-such-teacher/,
    );
    await expect(runTraining(opts({ model: "nope" }))).rejects.toThrow(/nope/);
  });
});
