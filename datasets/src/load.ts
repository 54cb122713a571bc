import { join } from "node:path";
import { imagesFile, isCached, labelsFile, readMeta, readPrefix } from "./cache";
import { datasetDir, resolveCacheDir } from "./paths";
import {
  assertDatasetName,
  type Dataset,
  type DatasetName,
  type DatasetStats,
  type Split,
} from "./types";

function notCached(name: DatasetName, cacheDir?: string): Error {
  return new Error(
    `dataset ${name} is not in the cache at ${resolveCacheDir(cacheDir)}; run \`pnpm datasets fetch ${name}\` first`,
  );
}

/**
 * Loads one split of a cached dataset (see `fetchDataset`). `limit` keeps only the first
 * `limit` images. Throws, naming the command to run, when the dataset is not cached.
 */
export async function loadDataset(
  name: DatasetName,
  split: Split,
  opts: { cacheDir?: string; limit?: number } = {},
): Promise<Dataset> {
  assertDatasetName(name);
  if (split !== "train" && split !== "test") {
    throw new Error(`unknown split "${split}" (expected train or test)`);
  }
  if (!(await isCached(name, opts.cacheDir))) throw notCached(name, opts.cacheDir);
  const meta = (await readMeta(name, opts.cacheDir))!;
  let count = meta.counts[split];
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < 0) {
      throw new Error(`limit must be a non-negative integer, got ${opts.limit}`);
    }
    count = Math.min(count, opts.limit);
  }
  const [h, w, c] = meta.shape;
  const dir = datasetDir(name, opts.cacheDir);
  const images = await readPrefix(join(dir, imagesFile(split)), count * h * w * c);
  const labels = await readPrefix(join(dir, labelsFile(split)), count);
  return {
    name,
    split,
    count,
    shape: [h, w, c],
    images,
    labels,
    classes: [...meta.classes],
  };
}

/** Per-channel mean and std (0-255 scale) of the training set, stored at fetch time. */
export async function datasetStats(
  name: DatasetName,
  opts: { cacheDir?: string } = {},
): Promise<DatasetStats> {
  assertDatasetName(name);
  const meta = await readMeta(name, opts.cacheDir);
  if (meta === undefined) throw notCached(name, opts.cacheDir);
  return { mean: [...meta.stats.mean], std: [...meta.stats.std] };
}
