import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * Checks an output file option before any work starts: it must not name a
 * directory, and its directory is created when missing (so that a long run
 * does not end in ENOENT and lose its report). Returns the absolute path.
 */
export function prepareOutputFile(path: string, flag: string): string {
  const abs = resolve(path);
  if (existsSync(abs) && statSync(abs).isDirectory())
    throw new Error(`${flag} ${path}: is a directory; give a file name`);
  try {
    mkdirSync(dirname(abs), { recursive: true });
  } catch (e) {
    throw new Error(`${flag} ${path}: cannot create its directory (${(e as Error).message})`);
  }
  return abs;
}

/** Checks an output directory option: it may exist, but not as a file. Returns the absolute path. */
export function checkOutputDir(path: string, flag: string): string {
  const abs = resolve(path);
  if (existsSync(abs) && !statSync(abs).isDirectory())
    throw new Error(`${flag} ${path}: is a file; give a directory`);
  return abs;
}
