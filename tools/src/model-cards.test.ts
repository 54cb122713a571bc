import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TrainInit, TrainRunJson } from "@cbnn/training";
import { describe, expect, it } from "vitest";
import {
  agreementWarning,
  backendCell,
  cardedModels,
  exportFlags,
  initStageEpochs,
  type ModelCard,
  renderCards,
  reproduceCommand,
  shippedModels,
  teacherLabel,
} from "./model-cards";

describe("agreementWarning", () => {
  it("warns below the export criterion and names the way back", () => {
    const w = agreementWarning({ name: "cifarnet2", argmaxAgreement: 0.9943 });
    expect(w).toContain("99.43%");
    expect(w).toContain("99.50%");
    expect(w).toContain("git checkout -- checkpoints/cifarnet2");
  });
  it("is silent at or above the criterion and for float-only models", () => {
    expect(agreementWarning({ name: "a", argmaxAgreement: 0.995 })).toBeNull();
    expect(agreementWarning({ name: "a", argmaxAgreement: 0.9968 })).toBeNull();
    expect(agreementWarning({ name: "a", argmaxAgreement: null })).toBeNull();
  });
});

describe("exportFlags", () => {
  it("says nothing for defaults and older exports without presignBits", () => {
    expect(exportFlags({ fracBits: 12, presignBits: 28 })).toBe("");
    expect(exportFlags({ fracBits: 12 })).toBe("");
  });
  it("names every non-default option the export recorded", () => {
    expect(exportFlags({ fracBits: 14, presignBits: null, mergeSeparable: true })).toBe(
      "--frac-bits 14 --presign-bits none --merge-separable",
    );
    expect(exportFlags({ fracBits: 12, presignBits: 24 })).toBe("--presign-bits 24");
  });
});

describe("cards of models shipped without an export", () => {
  const base: ModelCard = {
    name: "t",
    model: "vgg16",
    role: "teacher",
    dataset: "cifar10",
    width: 0.25,
    params: 959034,
    kd: null,
    epochs: 30,
    bestEpoch: 29,
    trainSeconds: 3600,
    backend: "wasm",
    seed: 1,
    floatTestAcc: 0.8385,
    fixedTestAcc: null,
    argmaxAgreement: null,
    testCount: 10000,
    fracBits: null,
    command: "pnpm train --model vgg16",
    evaluatedAt: "2026-11-28T00:00:00.000Z",
  };
  it("render '-' for the fixed-point columns and ship with --no-export", () => {
    const md = renderCards([base], "");
    expect(md).toContain("| 83.85% | - | - |");
    expect(md).toContain("ship-checkpoint.sh runs/t t --no-export`");
  });
  it("a model with an export renders its numbers and export flags", () => {
    const md = renderCards(
      [
        {
          ...base,
          fixedTestAcc: 0.838,
          argmaxAgreement: 0.999,
          fracBits: 12,
          exportFlags: "--merge-separable",
        },
      ],
      "",
    );
    expect(md).toContain("| 83.85% | 83.80% | 99.90% |");
    expect(md).toContain("ship-checkpoint.sh runs/t t --merge-separable`");
  });
  it("cardedModels includes run directories without an export; shippedModels does not", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbnn-cards-"));
    for (const [name, withExport] of [
      ["a", true],
      ["b", false],
    ] as const) {
      mkdirSync(join(dir, name, withExport ? "export" : ""), { recursive: true });
      writeFileSync(join(dir, name, "run.json"), "{}");
      writeFileSync(join(dir, name, "latest.json"), "{}");
      if (withExport) writeFileSync(join(dir, name, "export", "model.json"), "{}");
    }
    mkdirSync(join(dir, "sweep"));
    expect(cardedModels(dir)).toEqual(["a", "b"]);
    expect(shippedModels(dir)).toEqual(["a"]);
  });
});

describe("continued runs (--init)", () => {
  const stage1 = {
    model: "cifarnet2",
    modelConfig: { role: "student" },
    width: 1,
    dataset: "cifar10",
    augment: true,
    limit: null,
    teacher: null,
    kd: null,
    init: null,
    hyper: {
      epochs: 20,
      batchSize: 128,
      microBatch: 128,
      lr: 0.001,
      lrSchedule: "cosine",
      seed: 1,
    },
  } as unknown as TrainRunJson;
  it("a run from scratch has no --init", () => {
    expect(reproduceCommand(stage1, "runs/x")).toBe(
      "pnpm train --model cifarnet2 --lambda 1 --epochs 20 --batch 128 --lr 0.001 --lr-schedule cosine --seed 1 --out runs/x",
    );
  });
  it("names the weight decay when the run used one", () => {
    const wd = { ...stage1, hyper: { ...stage1.hyper, weightDecay: 0.05 } } as TrainRunJson;
    expect(reproduceCommand(wd, "runs/x")).toContain(
      "--lr-schedule cosine --weight-decay 0.05 --seed 1",
    );
  });
  it("names the Sign's backward pass when it is not the default STE", () => {
    const ap = { ...stage1, hyper: { ...stage1.hyper, signGrad: "approx" } } as TrainRunJson;
    expect(reproduceCommand(ap, "runs/x")).toContain(
      "--lr-schedule cosine --sign-grad approx --seed 1",
    );
    expect(reproduceCommand(stage1, "runs/x")).not.toContain("--sign-grad");
  });
  it("names the weight average's decay when the run kept one", () => {
    const ema = { ...stage1, hyper: { ...stage1.hyper, ema: 0.999 } } as TrainRunJson;
    expect(reproduceCommand(ema, "runs/x")).toContain("--lr-schedule cosine --ema 0.999 --seed 1");
    expect(reproduceCommand(stage1, "runs/x")).not.toContain("--ema");
  });
  it("names --pool-first when the run trained with the maxpool before the activation", () => {
    const pf = { ...stage1, hyper: { ...stage1.hyper, poolFirst: true } } as TrainRunJson;
    expect(reproduceCommand(pf, "runs/x")).toContain("--lr-schedule cosine --pool-first --seed 1");
    expect(reproduceCommand(stage1, "runs/x")).not.toContain("--pool-first");
  });
  it("re-runs the run its weights came from first, then continues from it", () => {
    const stage2 = {
      ...stage1,
      hyper: { ...stage1.hyper, lr: 0.0005 },
      init: { checkpoint: "/elsewhere/ckpt-e0015", weightsSha256: "ab", run: stage1, epochs: 15 },
    } as TrainRunJson;
    expect(reproduceCommand(stage2, "runs/x")).toBe(
      "pnpm train --model cifarnet2 --lambda 1 --epochs 20 --batch 128 --lr 0.001 --lr-schedule cosine --seed 1 --out runs/x-init, " +
        "then pnpm train --model cifarnet2 --lambda 1 --epochs 20 --batch 128 --lr 0.0005 --lr-schedule cosine --seed 1 --init runs/x-init --out runs/x",
    );
    // weights of unknown origin are named by their path
    const bare = {
      ...stage2,
      init: { checkpoint: "/w/ckpt", weightsSha256: "ab" },
    } as TrainRunJson;
    expect(reproduceCommand(bare, "runs/x")).toContain("--init /w/ckpt --out runs/x");
  });
  it("the card counts the epochs the starting weights held", () => {
    const card: ModelCard = {
      name: "c",
      model: "cifarnet2",
      role: "student",
      dataset: "cifar10",
      width: 1,
      params: 1,
      kd: null,
      epochs: 20,
      bestEpoch: 12,
      initEpochs: 15,
      trainSeconds: 60,
      backend: "wasm",
      seed: 1,
      floatTestAcc: 0.5,
      fixedTestAcc: null,
      argmaxAgreement: null,
      testCount: 10,
      fracBits: null,
      command: "x",
      evaluatedAt: "2026-11-28T00:00:00.000Z",
    };
    expect(renderCards([card], "")).toContain("| 15 + 20 (15 + 12) |");
    // each command of a chain is its own code span
    expect(renderCards([{ ...card, command: "pnpm train a, then pnpm train b" }], "")).toContain(
      "- **c**: `pnpm train a`, then `pnpm train b`, then `tools/scripts/ship-checkpoint.sh",
    );
    expect(renderCards([{ ...card, initEpochs: 0 }], "")).toContain("| 20 (12) |");
    // a three-stage chain shows each earlier stage's epochs
    const three = { ...card, initEpochs: 32, initStages: [15, 17] };
    expect(renderCards([three], "")).toContain("| 15 + 17 + 20 (15 + 17 + 12) |");
  });
  it("initStageEpochs splits a chain's epochs per stage, oldest first", () => {
    const first = { checkpoint: "/a", weightsSha256: "a", epochs: 15, run: { init: null } };
    const second = {
      checkpoint: "/b",
      weightsSha256: "b",
      epochs: 32,
      run: { init: first },
    } as unknown as TrainInit;
    expect(initStageEpochs(second)).toEqual([15, 17]);
    expect(initStageEpochs(first as unknown as TrainInit)).toEqual([15]);
    expect(initStageEpochs(null)).toEqual([]);
    // an init from outside pnpm train records no epochs
    expect(initStageEpochs({ checkpoint: "/x", weightsSha256: "x" })).toEqual([]);
  });
});

describe("teacherLabel", () => {
  type R = Parameters<typeof teacherLabel>[0];
  const teacher = (checkpoint: string) => ({
    checkpoint,
    model: "vgg16",
    width: 0.25,
    weightsSha256: "x",
  });
  const kd = { lambda: 0.1, T: 10, t2Scaling: false };
  const stage = (ckpt: string, prev?: R): R => ({
    teacher: teacher(ckpt),
    kd,
    init: prev
      ? { checkpoint: "/r/ckpt-e0001", weightsSha256: "y", run: prev as TrainRunJson }
      : null,
  });

  it("names the teacher checkpoint's folder, not its architecture", () => {
    expect(teacherLabel(stage("/repo/checkpoints/vgg16-w0.25-s2/ckpt-e0014"))).toBe(
      "vgg16-w0.25-s2",
    );
    expect(teacherLabel(stage("/repo/runs/teacher-run"))).toBe("teacher-run");
  });

  it("lists the teachers of a continued run's stages in order, each once per change", () => {
    const old = "/repo/checkpoints/vgg16-w0.25/ckpt-e0029";
    const chain = stage("/repo/checkpoints/vgg16-w0.25-s2/ckpt-e0014", stage(old, stage(old)));
    expect(teacherLabel(chain)).toBe("vgg16-w0.25, then vgg16-w0.25-s2");
  });

  it("skips stages trained without KD (lambda 1 runs record no teacher)", () => {
    const plain: R = { teacher: null, kd: null, init: null };
    expect(teacherLabel(stage("/c/mnistnet4/ckpt-e0003", plain))).toBe("mnistnet4");
  });
});

describe("backendCell", () => {
  const h = (workers: (number | undefined)[]) =>
    workers.map((w, i) => ({
      epoch: i + 1,
      valAcc: 0.5,
      seconds: 1,
      ...(w ? { workers: w } : {}),
    }));
  it("names the epochs that ran on worker threads", () => {
    expect(backendCell("wasm", h([undefined, undefined]))).toBe("wasm");
    expect(backendCell("wasm", h([2, 2, 2]))).toBe("wasm, 2 worker threads");
    expect(backendCell("wasm", h([undefined, 2, 2]))).toBe("wasm; epochs 2-3 on 2 worker threads");
    expect(backendCell("wasm", h([2, undefined, 3]))).toBe(
      "wasm; epoch 1 on 2 worker threads, epoch 3 on 3 worker threads",
    );
  });
});
