import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./env";
import {
  QUICK_RESULTS_DIR,
  RESULTS_DIR,
  readAllResults,
  resultsDirFor,
  writeResults,
} from "./results";

describe("results files", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "cbnn-results-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("sends --quick runs to their own directory, which git ignores", () => {
    expect(resultsDirFor(false)).toBe(RESULTS_DIR);
    expect(resultsDirFor(true)).toBe(QUICK_RESULTS_DIR);
    expect(QUICK_RESULTS_DIR).not.toBe(RESULTS_DIR);
    const rel = (p: string) => path.relative(REPO_ROOT, path.join(p, "models.json"));
    // git check-ignore exits 0 for an ignored path and 1 for one that is not;
    // --no-index asks the ignore rules even about tracked files (bench/results is tracked)
    const ignored = (p: string) => {
      try {
        execFileSync("git", ["check-ignore", "-q", "--no-index", rel(p)], { cwd: REPO_ROOT });
        return true;
      } catch (e) {
        if ((e as { status?: number }).status === 1) return false;
        throw e;
      }
    };
    expect(ignored(QUICK_RESULTS_DIR)).toBe(true);
    expect(ignored(RESULTS_DIR)).toBe(false);
  });

  it("writes a header with the suite, date, machine and commit, and reads it back", () => {
    const file = writeResults("models", { quick: true, durationS: 3 }, dir);
    expect(file).toBe(path.join(dir, "models.json"));
    const back = readAllResults(dir);
    expect(Object.keys(back)).toEqual(["models"]);
    expect(back.models?.suite).toBe("models");
    expect(back.models?.quick).toBe(true);
    expect(typeof back.models?.git.commit).toBe("string");
    expect(JSON.parse(readFileSync(file, "utf8")).durationS).toBe(3);
  });

  it("names a file that is not a results file", () => {
    writeFileSync(path.join(dir, "broken.json"), "{");
    expect(() => readAllResults(dir)).toThrow(/broken\.json: not valid JSON/);
    writeFileSync(path.join(dir, "broken.json"), "{}");
    expect(() => readAllResults(dir)).toThrow(/broken\.json: field "suite" missing/);
  });
});
