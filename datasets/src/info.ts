import { stat } from "node:fs/promises";
import { join } from "node:path";
import { imagesFile, isCached, labelsFile, META_FILE, readMeta } from "./cache";
import { datasetDir } from "./paths";
import { NPM_SOURCES } from "./sources";
import { assertDatasetName, DATASETS, type DatasetName } from "./types";

/** A human-readable description of a dataset and of its cache state. */
export async function datasetInfo(
  name: DatasetName,
  opts: { cacheDir?: string } = {},
): Promise<string> {
  assertDatasetName(name);
  const spec = DATASETS[name];
  const src = NPM_SOURCES[name];
  const dir = datasetDir(name, opts.cacheDir);
  const lines = [
    `dataset:  ${name}`,
    `shape:    ${spec.shape.join("x")} (HWC, uint8)`,
    `classes:  ${spec.classes.join(", ")}`,
    `source:   npm ${src.pkg}@${src.version} (sha256 ${src.tarballSha256})`,
    `cache:    ${dir}`,
  ];
  if (!(await isCached(name, opts.cacheDir))) {
    lines.push(`status:   not cached; run \`pnpm datasets fetch ${name}\``);
    return lines.join("\n");
  }
  const meta = (await readMeta(name, opts.cacheDir))!;
  let bytes = 0;
  for (const f of [
    imagesFile("train"),
    labelsFile("train"),
    imagesFile("test"),
    labelsFile("test"),
    META_FILE,
  ]) {
    bytes += (await stat(join(dir, f))).size;
  }
  const fmt = (v: number[]): string => v.map((x) => x.toFixed(2)).join(", ");
  lines.push(
    `status:   cached from ${meta.source} at ${meta.createdAt} (${(bytes / 1e6).toFixed(1)} MB)`,
    `train:    ${meta.counts.train} images`,
    `test:     ${meta.counts.test} images`,
    `mean:     [${fmt(meta.stats.mean)}] (train set, 0-255)`,
    `std:      [${fmt(meta.stats.std)}] (train set, 0-255)`,
  );
  return lines.join("\n");
}
