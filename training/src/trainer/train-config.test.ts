import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./run";
import { loadTrainConfig, TRAIN_CONFIGS_DIR } from "./train-config";

const dir = mkdtempSync(join(tmpdir(), "cbnn-tcfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("training recipes", () => {
  it("every shipped recipe validates", () => {
    const files = readdirSync(TRAIN_CONFIGS_DIR).filter(
      (f) => f.endsWith(".json") && f !== "schema.json",
    );
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) expect(loadTrainConfig(f).model).toBeTruthy();
  });

  it("resolves relative teacher/out paths from the repo root", () => {
    const c = loadTrainConfig("mnistnet3-kd");
    expect(c.teacher).toBe(join(REPO_ROOT, "checkpoints/mnistnet4"));
    expect(c.lambda).toBe(0.1);
  });

  it("names the bad field", () => {
    const p = join(dir, "bad.json");
    writeFileSync(p, JSON.stringify({ model: "x", epochs: 0, bogus: 1 }));
    expect(() => loadTrainConfig(p)).toThrow(
      /bad\.json: .*(field epochs must be >= 1.*unknown field "bogus"|unknown field "bogus".*field epochs must be >= 1)/,
    );
    writeFileSync(p, "{");
    expect(() => loadTrainConfig(p)).toThrow(/invalid JSON/);
    expect(() => loadTrainConfig("no-such-recipe")).toThrow(/--config no-such-recipe/);
    // a missing absolute path is named as given, not looked up under configs/train/
    const missing = join(dir, "missing.json");
    expect(() => loadTrainConfig(missing)).toThrow(
      `--config ${missing}: no such file (looked for ${missing})`,
    );
  });
});
