/** The secure-eval and party CLIs refuse bad input before they start or connect anything. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const MNIST1 = resolve(here, "../../../checkpoints/mnistnet1/export");
const dir = mkdtempSync(join(tmpdir(), "cbnn-se-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function secureEval(args: string[]) {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(here, "secure-eval.ts"), ...args],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  return { code: r.status, err: r.stderr };
}

function party(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(here, "party.ts"), ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, err: r.stderr };
}

describe("pnpm secure-eval", () => {
  it("refuses --batch with --image, and a --json that names a directory, at once", () => {
    const b = secureEval(["--export", MNIST1, "--image", "x.png", "--batch", "2"]);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/--batch applies to dataset runs: --image files run one per call/);
    const j = secureEval(["--export", MNIST1, "--limit", "1", "--json", dir]);
    expect(j.code).toBe(1);
    expect(j.err).toMatch(/--json .*: is a directory; give a file name/);
  }, 60_000);
});

describe("pnpm party", () => {
  it("refuses options that another role reads instead of ignoring them", () => {
    const config = resolve(here, "../../../configs/parties/local.json");
    const h = party(["--role", "helper", "--config", config, "--dataset", "mnist", "--limit", "5"]);
    expect(h.code).toBe(1);
    expect(h.err).toMatch(/--dataset, --limit: apply to another party, not --role helper/);
    const d = party(["--role", "data-owner", "--config", config, "--export", MNIST1]);
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/--export: applies to another party, not --role data-owner/);
    const m = party(["--role", "model-owner", "--config", config, "--batch", "10"]);
    expect(m.code).toBe(1);
    expect(m.err).toMatch(/--batch: applies to another party, not --role model-owner/);
  }, 60_000);
});
