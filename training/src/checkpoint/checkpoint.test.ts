import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Adam, decodeAdamState, encodeAdamState } from "../trainer/adam";
import { tinyModel } from "../trainer/test-helpers";
import { writeFileAtomic } from "./atomic";
import {
  checkpointName,
  loadCheckpointState,
  readLatest,
  resolveCheckpoint,
  saveCheckpoint,
  type TrainState,
} from "./checkpoint";
import { loadModel, loadWeightsInto, saveModel } from "./model-io";

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cbnn-ckpt-"));
  dirs.push(d);
  return d;
}
beforeAll(async () => {
  await tf.setBackend("cpu");
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function state(epoch: number, best: number | null): TrainState {
  return {
    epoch,
    step: 0,
    globalStep: epoch * 10,
    partial: { lossSum: 0, correct: 0, seen: 0, seconds: 0 },
    history: [],
    best: best === null ? null : { epoch: best, valAcc: 0.5, dir: checkpointName(best, 0) },
    rng: { seed: 1, scheme: "test" },
  };
}

describe("model io", () => {
  it("round-trips topology and weights exactly", async () => {
    const dir = tmp();
    const a = tinyModel(3);
    await saveModel(a, dir);
    const b = await loadModel(dir);
    const c = tinyModel(99);
    loadWeightsInto(c, dir);
    const wa = a.getWeights();
    for (const m of [b, c]) {
      const wm = m.getWeights();
      expect(wm.length).toBe(wa.length);
      for (let i = 0; i < wa.length; i++) {
        expect(Array.from(wm[i].dataSync())).toEqual(Array.from(wa[i].dataSync()));
      }
    }
  });

  it("rejects a truncated weights.bin and a model of another shape, naming the file", async () => {
    const dir = tmp();
    await saveModel(tinyModel(3), dir);
    expect(() => loadWeightsInto(tinyModel(3, [8, 8, 1], 5), dir)).toThrow(/shape/);
    const bin = readFileSync(join(dir, "weights.bin"));
    writeFileSync(join(dir, "weights.bin"), bin.subarray(0, bin.length - 4));
    expect(() => loadWeightsInto(tinyModel(3), dir)).toThrow(/weights\.bin: \d+ bytes/);
  });
});

describe("adam state codec", () => {
  it("round-trips moments and step", () => {
    const v = [tf.variable(tf.tensor([1, 2, 3])), tf.variable(tf.tensor([[4, 5]]))];
    const adam = new Adam(v);
    adam.apply([tf.tensor([0.1, -0.2, 0.3]), tf.tensor([[1, -1]])], 0.01);
    const s = adam.getState();
    const { json, bin } = encodeAdamState(s);
    const back = decodeAdamState(json, bin, "x");
    expect(back.step).toBe(1);
    back.moments.forEach((m, i) => {
      expect(Array.from(m.m)).toEqual(Array.from(s.moments[i].m));
      expect(Array.from(m.v)).toEqual(Array.from(s.moments[i].v));
    });
    expect(() => decodeAdamState(json, bin.subarray(4), "opt.bin")).toThrow(/opt\.bin/);
  });
});

describe("checkpoints are atomic", () => {
  it("a writer killed mid-write leaves a complete old or new file, never a partial one", async () => {
    const dir = tmp();
    const path = join(dir, "blob.bin");
    // node --import tsx (not the tsx wrapper, whose grandchild would survive the kill).
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(here, "atomic-writer.fixture.ts"), path],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await new Promise<void>((res) => child.stdout.once("data", () => res()));
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 100));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const data = readFileSync(path);
    expect(data.length).toBe(4 << 20);
    expect(data.every((b) => b === data[0])).toBe(true);
  }, 30_000);

  it("writeFileAtomic replaces content and leaves no temp file", () => {
    const dir = tmp();
    writeFileAtomic(join(dir, "a.json"), "1");
    writeFileAtomic(join(dir, "a.json"), "2");
    expect(readFileSync(join(dir, "a.json"), "utf8")).toBe("2");
    expect(readdirSync(dir)).toEqual(["a.json"]);
  });

  it("a checkpoint save that fails midway keeps the previous checkpoint and pointer", async () => {
    const dir = tmp();
    const model = tinyModel(1);
    const adam = new Adam(model.trainableWeights.map((w) => w.read() as tf.Variable));
    await saveCheckpoint(dir, {
      model,
      optimizer: adam.getState(),
      state: state(1, 1),
      done: false,
    });
    const before = readFileSync(join(dir, "latest.json"), "utf8");
    const broken = {
      save: async () => {
        throw new Error("disk full");
      },
    } as unknown as tf.LayersModel;
    await expect(
      saveCheckpoint(dir, {
        model: broken,
        optimizer: adam.getState(),
        state: state(2, 1),
        done: false,
      }),
    ).rejects.toThrow(/disk full/);
    expect(readFileSync(join(dir, "latest.json"), "utf8")).toBe(before);
    expect(existsSync(join(dir, checkpointName(2, 0)))).toBe(false);
    const l = readLatest(dir)!;
    expect(l.latest).toBe("ckpt-e0001");
    const loaded = loadCheckpointState(join(dir, l.latest));
    expect(loaded.state.epoch).toBe(1);
    loadWeightsInto(tinyModel(2), join(dir, l.latest));
  });

  it("keeps only latest and best, and resolves run and checkpoint directories", async () => {
    const dir = tmp();
    const model = tinyModel(1);
    const adam = new Adam(model.trainableWeights.map((w) => w.read() as tf.Variable));
    // Leftovers of a killed write are cleaned up by the next save.
    writeFileSync(join(dir, ".tmp-latest.json-1-ab"), "{");
    mkdirSync(join(dir, ".tmp-ckpt-e0009-1"));
    for (const [e, b] of [
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 2],
    ]) {
      await saveCheckpoint(dir, {
        model,
        optimizer: adam.getState(),
        state: state(e, b),
        done: e === 4,
      });
    }
    expect(
      readdirSync(dir)
        .filter((e) => e.startsWith("ckpt-"))
        .sort(),
    ).toEqual(["ckpt-e0002", "ckpt-e0004"]);
    expect(readdirSync(dir).filter((e) => e.startsWith(".tmp"))).toEqual([]);
    expect(resolveCheckpoint(dir).modelDir).toBe(join(dir, "ckpt-e0002"));
    expect(resolveCheckpoint(dir, "latest").modelDir).toBe(join(dir, "ckpt-e0004"));
    expect(resolveCheckpoint(join(dir, "ckpt-e0004")).modelDir).toBe(join(dir, "ckpt-e0004"));
    expect(() => resolveCheckpoint(join(dir, "nope"))).toThrow(/not a directory/);
    const exp = join(dir, "export");
    mkdirSync(exp);
    writeFileSync(join(exp, "model.json"), JSON.stringify({ format: "cbnn-export", version: 1 }));
    expect(() => resolveCheckpoint(exp)).toThrow(
      /a fixed-point export \(pnpm export's output\), not a training checkpoint; pnpm evaluate --export/,
    );
  });
});
