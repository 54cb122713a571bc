import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { DatasetName } from "./types";

/** `datasets/cache`, found from this file's location (not the working directory). */
export const DEFAULT_CACHE_DIR = fileURLToPath(new URL("../cache", import.meta.url));

/** Cache root: the explicit option, else $CBNN_CACHE_DIR, else `datasets/cache`. */
export function resolveCacheDir(cacheDir?: string): string {
  if (cacheDir !== undefined && cacheDir !== "") return resolve(cacheDir);
  const env = process.env.CBNN_CACHE_DIR;
  if (env !== undefined && env !== "") return resolve(env);
  return DEFAULT_CACHE_DIR;
}

/** Directory holding one dataset's cached binaries. */
export function datasetDir(name: DatasetName, cacheDir?: string): string {
  return resolve(resolveCacheDir(cacheDir), name);
}
