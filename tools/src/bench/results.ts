import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { type GitInfo, gitInfo, type MachineInfo, machineInfo, REPO_ROOT } from "./env";

export const RESULTS_DIR = path.join(REPO_ROOT, "bench", "results");

/**
 * Where `--quick` (smoke) runs write: bench/results-quick/, ignored by git, so
 * that a smoke run never replaces the committed numbers of a full run.
 */
export const QUICK_RESULTS_DIR = path.join(REPO_ROOT, "bench", "results-quick");

/** The results directory of a full run (tracked) or a `--quick` run (ignored by git). */
export function resultsDirFor(quick: boolean): string {
  return quick ? QUICK_RESULTS_DIR : RESULTS_DIR;
}

/** Fields every results file carries besides the suite's own data. */
export interface ResultsHeader {
  suite: string;
  /** ISO time the file was written. */
  date: string;
  machine: MachineInfo;
  git: GitInfo;
  quick?: boolean;
  /** Wall time of the whole suite, seconds. */
  durationS?: number;
}

export type ResultsFile = ResultsHeader & Record<string, unknown>;

/**
 * Write <dir>/<name>.json (temp file + rename), with the machine and commit it
 * ran on. The directory follows the data's own `quick` flag unless given, so a
 * smoke run's file cannot land among the committed full-run results.
 */
export function writeResults<T extends { quick?: boolean }>(
  name: string,
  data: T,
  dir = resultsDirFor(data.quick === true),
): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const body = {
    suite: name,
    date: new Date().toISOString(),
    machine: machineInfo(),
    git: gitInfo(),
    ...data,
  };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}

/** Every <dir>/*.json present (default bench/results), by suite name; a file that is not valid JSON throws naming it. */
export function readAllResults(dir = RESULTS_DIR): Record<string, ResultsFile> {
  const out: Record<string, ResultsFile> = {};
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith(".json")) continue;
    const file = path.join(dir, f);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
    }
    if (
      typeof data !== "object" ||
      data === null ||
      typeof (data as ResultsFile).suite !== "string"
    ) {
      throw new Error(`${file}: field "suite" missing (not a bench results file)`);
    }
    out[f.slice(0, -5)] = data as ResultsFile;
  }
  return out;
}
