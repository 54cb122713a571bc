import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkOutputDir, prepareOutputFile } from "./output";

const dir = mkdtempSync(join(tmpdir(), "cbnn-output-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("output options", () => {
  it("a report file: creates its missing directory, refuses a directory or a file in the way", () => {
    const p = join(dir, "a", "b", "report.json");
    expect(prepareOutputFile(p, "--json")).toBe(p);
    expect(statSync(join(dir, "a", "b")).isDirectory()).toBe(true);
    expect(existsSync(p)).toBe(false);
    mkdirSync(join(dir, "isdir"));
    expect(() => prepareOutputFile(join(dir, "isdir"), "--json")).toThrow(
      /--json .*isdir: is a directory; give a file name/,
    );
    writeFileSync(join(dir, "file"), "x");
    expect(() => prepareOutputFile(join(dir, "file", "r.json"), "--json")).toThrow(
      /--json .*file\/r\.json: cannot create its directory/,
    );
  });

  it("an output directory may exist or not, but not be a file", () => {
    expect(checkOutputDir(join(dir, "new"), "--out")).toBe(join(dir, "new"));
    mkdirSync(join(dir, "there"));
    expect(checkOutputDir(join(dir, "there"), "--out")).toBe(join(dir, "there"));
    writeFileSync(join(dir, "plain"), "x");
    expect(() => checkOutputDir(join(dir, "plain"), "--out")).toThrow(
      /--out .*plain: is a file; give a directory/,
    );
  });
});
