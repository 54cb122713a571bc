import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeRng } from "./augment";
import { computeStats, readMeta, writeCache } from "./cache";
import { fetchDataset, fromNpmFiles } from "./fetch";
import { encodeCifarBin } from "./formats/cifar";
import { encodeIdx } from "./formats/idx";
import { datasetStats, loadDataset } from "./load";
import { sha256 } from "./npm";
import type { NpmSource } from "./sources";

function randomBytes(n: number, seed: number, max = 256): Uint8Array {
  const rng = makeRng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rng() * max);
  return out;
}

let work: string;
let cache: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "cbnn-ds-test-"));
  cache = join(work, "cache");
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Synth {
  images: Uint8Array;
  labels: Uint8Array;
}

async function writeMnistDir(dir: string, gz: boolean): Promise<Record<"train" | "test", Synth>> {
  const mk = (n: number, seed: number): Synth => ({
    images: randomBytes(n * 784, seed),
    labels: randomBytes(n, seed + 1, 10),
  });
  const data = { train: mk(12, 1), test: mk(5, 2) };
  const put = async (name: string, buf: Uint8Array): Promise<void> =>
    writeFile(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(buf) : buf);
  await put("train-images-idx3-ubyte", encodeIdx([12, 28, 28], data.train.images));
  await put("train-labels-idx1-ubyte", encodeIdx([12], data.train.labels));
  await put("t10k-images-idx3-ubyte", encodeIdx([5, 28, 28], data.test.images));
  await put("t10k-labels-idx1-ubyte", encodeIdx([5], data.test.labels));
  return data;
}

async function writeCifarDir(dir: string): Promise<Record<"train" | "test", Synth>> {
  const train: Synth = { images: randomBytes(10 * 3072, 10), labels: randomBytes(10, 11, 10) };
  for (let b = 0; b < 5; b++) {
    const imgs = train.images.subarray(b * 2 * 3072, (b + 1) * 2 * 3072);
    const labs = train.labels.subarray(b * 2, (b + 1) * 2);
    await writeFile(join(dir, `data_batch_${b + 1}.bin`), encodeCifarBin(imgs, labs));
  }
  const test: Synth = { images: randomBytes(3 * 3072, 12), labels: randomBytes(3, 13, 10) };
  await writeFile(join(dir, "test_batch.bin"), encodeCifarBin(test.images, test.labels));
  return { train, test };
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

describe("fetchDataset --from", () => {
  for (const gz of [false, true]) {
    it(`reads MNIST IDX files (${gz ? "gzipped" : "plain"}) and loads them back`, async () => {
      const src = join(work, "mnist");
      await mkdir(src);
      const want = await writeMnistDir(src, gz);
      await fetchDataset("mnist", { from: src, cacheDir: cache });
      for (const split of ["train", "test"] as const) {
        const d = await loadDataset("mnist", split, { cacheDir: cache });
        expect(d.count).toBe(want[split].labels.length);
        expect(d.shape).toEqual([28, 28, 1]);
        expect(same(d.images, want[split].images)).toBe(true);
        expect(same(d.labels, want[split].labels)).toBe(true);
      }
      const stats = await datasetStats("mnist", { cacheDir: cache });
      const ref = computeStats(want.train.images, 1);
      expect(stats.mean[0]).toBeCloseTo(ref.mean[0], 9);
      const limited = await loadDataset("mnist", "train", { cacheDir: cache, limit: 3 });
      expect(limited.count).toBe(3);
      expect(same(limited.images, want.train.images.subarray(0, 3 * 784))).toBe(true);
    });
  }

  it("reads CIFAR-10 binary batches (also from a cifar-10-batches-bin subdirectory)", async () => {
    const src = join(work, "cifar-10-batches-bin");
    await mkdir(src);
    const want = await writeCifarDir(src);
    await fetchDataset("cifar10", { from: work, cacheDir: cache });
    for (const split of ["train", "test"] as const) {
      const d = await loadDataset("cifar10", split, { cacheDir: cache });
      expect(d.shape).toEqual([32, 32, 3]);
      expect(d.classes[3]).toBe("cat");
      expect(same(d.images, want[split].images)).toBe(true);
      expect(same(d.labels, want[split].labels)).toBe(true);
    }
    // Stats: compare with a naive two-pass computation.
    const stats = await datasetStats("cifar10", { cacheDir: cache });
    const px = want.train.images.length / 3;
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let i = c; i < want.train.images.length; i += 3) s += want.train.images[i];
      const m = s / px;
      let v = 0;
      for (let i = c; i < want.train.images.length; i += 3) v += (want.train.images[i] - m) ** 2;
      expect(stats.mean[c]).toBeCloseTo(m, 9);
      expect(stats.std[c]).toBeCloseTo(Math.sqrt(v / px), 6);
    }
  });

  it("is idempotent: a second fetch says so and keeps the cache", async () => {
    const src = join(work, "m");
    await mkdir(src);
    await writeMnistDir(src, false);
    const first: string[] = [];
    await fetchDataset("mnist", { from: src, cacheDir: cache, onProgress: (m) => first.push(m) });
    // Synthetic files are not the official release; that is reported, not an error.
    expect(first.join("\n")).toMatch(/train-images-idx3-ubyte differs from the official release/);
    const msgs: string[] = [];
    await fetchDataset("mnist", { from: src, cacheDir: cache, onProgress: (m) => msgs.push(m) });
    expect(msgs.join("\n")).toMatch(/already cached/);
    expect((await readdir(cache)).sort()).toEqual(["mnist"]);
  });

  it("names a missing file and leaves nothing in the cache", async () => {
    const src = join(work, "m");
    await mkdir(src);
    await writeMnistDir(src, false);
    await rm(join(src, "t10k-labels-idx1-ubyte"));
    await expect(fetchDataset("mnist", { from: src, cacheDir: cache })).rejects.toThrow(
      /t10k-labels-idx1-ubyte: missing file/,
    );
    expect(existsSync(join(cache, "mnist"))).toBe(false);
    await expect(fetchDataset("cifar10", { from: src, cacheDir: cache })).rejects.toThrow(
      /data_batch_1.bin: missing file/,
    );
  });

  it("names a truncated file and leaves nothing half-written", async () => {
    const src = join(work, "c");
    await mkdir(src);
    await writeCifarDir(src);
    const full = encodeCifarBin(randomBytes(3 * 3072, 1), new Uint8Array([1, 2, 3]));
    await writeFile(join(src, "test_batch.bin"), full.subarray(0, full.length - 100));
    await expect(fetchDataset("cifar10", { from: src, cacheDir: cache })).rejects.toThrow(
      /test_batch.bin: truncated/,
    );
    expect(existsSync(cache) ? await readdir(cache) : []).toEqual([]);
  });

  it("removes temporary directories left by a killed fetch, keeps those of live ones", async () => {
    const src = join(work, "m");
    await mkdir(src);
    await writeMnistDir(src, false);
    await mkdir(cache, { recursive: true });
    // pid 2^22+1 is above Linux's pid_max default; our own pid is alive.
    const dead = join(cache, `.mnist.tmp-${2 ** 22 + 1}-abcd1234`);
    const live = join(cache, `.mnist.tmp-${process.pid}-00000000`);
    await mkdir(dead);
    await writeFile(join(dead, "train-images.u8"), new Uint8Array(5));
    await mkdir(live);
    await fetchDataset("mnist", { from: src, cacheDir: cache });
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });

  it("a late concurrent writer keeps the complete cache in place; force replaces it", async () => {
    const src = join(work, "m");
    await mkdir(src);
    await writeMnistDir(src, false);
    await fetchDataset("mnist", { from: src, cacheDir: cache });
    const file = join(cache, "mnist", "test-images.u8");
    const before = await stat(file);
    const first = await readMeta("mnist", cache);
    // A second process that decoded the same data while the first one wrote: it must not
    // move the finished cache aside (its files would vanish under readers for a moment).
    const splits = {
      train: await loadDataset("mnist", "train", { cacheDir: cache }),
      test: await loadDataset("mnist", "test", { cacheDir: cache }),
    };
    const kept = await writeCache("mnist", splits, "late-writer", cache);
    expect(kept.source).toBe(first?.source);
    expect((await stat(file)).ino).toBe(before.ino);
    const replaced = await writeCache("mnist", splits, "forced", cache, true);
    expect(replaced.source).toBe("forced");
    expect((await readMeta("mnist", cache))?.source).toBe("forced");
    expect((await readdir(cache)).filter((e) => e.startsWith("."))).toEqual([]);
  });

  it("loadDataset tells the user to fetch when the data is not cached", async () => {
    await expect(loadDataset("cifar10", "train", { cacheDir: cache })).rejects.toThrow(
      /pnpm datasets fetch cifar10/,
    );
    await expect(datasetStats("mnist", { cacheDir: cache })).rejects.toThrow(
      /pnpm datasets fetch mnist/,
    );
  });

  it("detects a truncated cache file as not cached", async () => {
    const src = join(work, "m");
    await mkdir(src);
    await writeMnistDir(src, false);
    await fetchDataset("mnist", { from: src, cacheDir: cache });
    await writeFile(join(cache, "mnist", "test-images.u8"), new Uint8Array(10));
    await expect(loadDataset("mnist", "test", { cacheDir: cache })).rejects.toThrow(
      /not in the cache/,
    );
    // and a fresh fetch repairs it
    await fetchDataset("mnist", { from: src, cacheDir: cache });
    expect((await loadDataset("mnist", "test", { cacheDir: cache })).count).toBe(5);
  });
});

describe("fromNpmFiles (the package path, with synthetic files and hashes)", () => {
  function mnistPackage(): { files: Map<string, Uint8Array>; src: NpmSource } {
    const files = new Map<string, Uint8Array>([
      ["data/train-images-idx3-ubyte", encodeIdx([2, 28, 28], randomBytes(2 * 784, 1))],
      ["data/train-labels-idx1-ubyte", encodeIdx([2], new Uint8Array([1, 2]))],
      ["data/t10k-images-idx3-ubyte", encodeIdx([1, 28, 28], randomBytes(784, 2))],
      ["data/t10k-labels-idx1-ubyte", encodeIdx([1], new Uint8Array([7]))],
      ["readme.md", new Uint8Array([1])],
    ]);
    const pinned: Record<string, string> = {};
    for (const [k, v] of files) if (k.startsWith("data/")) pinned[k] = sha256(v);
    return { files, src: { pkg: "fake", version: "0.0.0", tarballSha256: "", files: pinned } };
  }

  it("decodes when every hash matches", async () => {
    const { files, src } = mnistPackage();
    const splits = await fromNpmFiles("mnist", files, src);
    expect(splits.train.count).toBe(2);
    expect(Array.from(splits.test.labels)).toEqual([7]);
  });

  it("rejects a wrong hash, naming the file", async () => {
    const { files, src } = mnistPackage();
    const bad = files.get("data/t10k-labels-idx1-ubyte")!.slice();
    bad[bad.length - 1] = 3;
    files.set("data/t10k-labels-idx1-ubyte", bad);
    await expect(fromNpmFiles("mnist", files, src)).rejects.toThrow(
      /fake@0.0.0\/data\/t10k-labels-idx1-ubyte: sha256 mismatch/,
    );
  });

  it("rejects a missing file, naming it", async () => {
    const { files, src } = mnistPackage();
    files.delete("data/train-images-idx3-ubyte");
    await expect(fromNpmFiles("mnist", files, src)).rejects.toThrow(
      /fake@0.0.0: missing file data\/train-images-idx3-ubyte/,
    );
  });
});
