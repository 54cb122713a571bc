/**
 * Which dataset a local secure evaluation reads when none is given: the one the
 * export names (so `pnpm secure-eval --export checkpoints/cifarnet2/export`
 * needs no --dataset), checked before any party process starts.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fetchDataset } from "@cbnn/datasets";
import { describe, expect, it } from "vitest";
import { datasetForRun, preflightLocalEval } from "./local";

const CHECKPOINTS = resolve(fileURLToPath(import.meta.url), "../../../../checkpoints");

describe("datasetForRun", () => {
  it("takes the given dataset over the export's", () => {
    expect(datasetForRun("mnist", "cifar10", "x")).toBe("mnist");
    expect(datasetForRun("cifar10", "random", "x")).toBe("cifar10");
  });

  it("defaults to the dataset the export was trained on", () => {
    expect(datasetForRun(undefined, "cifar10", "x")).toBe("cifar10");
    expect(datasetForRun(undefined, "mnist", "x")).toBe("mnist");
  });

  it("rejects an unknown dataset, and an export that names none without --dataset", () => {
    expect(() => datasetForRun("svhn", "mnist", "x")).toThrow(/--dataset: unknown dataset "svhn"/);
    expect(() => datasetForRun(undefined, "random", "exp/rand")).toThrow(
      /exp\/rand: the export names no known dataset \("random"\); give --dataset/,
    );
  });
});

describe("preflightLocalEval", () => {
  it("resolves a shipped CIFAR-10 export's dataset without --dataset", async () => {
    await fetchDataset("cifar10");
    const exportDir = join(CHECKPOINTS, "cifarnet2", "export");
    await expect(preflightLocalEval({ exportDir, limit: 1 })).resolves.toBe("cifar10");
  });

  it("still fails early when the given dataset does not fit the model", async () => {
    await fetchDataset("mnist");
    const exportDir = join(CHECKPOINTS, "cifarnet2", "export");
    await expect(preflightLocalEval({ exportDir, dataset: "mnist", limit: 1 })).rejects.toThrow(
      /takes 32x32x3 images, dataset mnist has 28x28x1/,
    );
  });

  it("refuses the cbnn MSB on an export whose bounds are too wide for it, before any party starts", async () => {
    await fetchDataset("cifar10");
    const exportDir = join(CHECKPOINTS, "cifarnet2", "export");
    await expect(preflightLocalEval({ exportDir, limit: 1, msb: "cbnn" })).rejects.toThrow(
      /outBoundBits = 30 is too large for a correct cbnn MSB \(at most 28 bits\)/,
    );
    // the MNIST exports are within the bound
    await fetchDataset("mnist");
    const mnist = join(CHECKPOINTS, "mnistnet3", "export");
    await expect(preflightLocalEval({ exportDir: mnist, limit: 1, msb: "cbnn" })).resolves.toBe(
      "mnist",
    );
  });
});
