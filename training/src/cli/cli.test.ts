import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
function cli(name: string, args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(here, `${name}.ts`), ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("CLIs", () => {
  it("train: --help, and a bad flag value exits 1 naming the flag", () => {
    const h = cli("train", ["--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/--micro-batch/);
    const bad = cli("train", ["--model", "mnistnet1", "--lambda", "2"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--lambda: 2 is above 1/);
    expect(h.out).toMatch(/--ema <decay>/);
    const ema = cli("train", ["--model", "mnistnet1", "--ema", "1"]);
    expect(ema.code).toBe(1);
    expect(ema.err).toMatch(/--ema: 1 must be below 1 \(0 = off\)/);
  }, 60_000);

  it("evaluate without a target and export of a missing checkpoint fail clearly", () => {
    const e = cli("evaluate", ["--backend", "cpu"]);
    expect(e.code).toBe(1);
    expect(e.err).toMatch(/give --checkpoint <dir> or --export <dir>/);
    const l = cli("evaluate", ["--export", "x", "--latest", "--backend", "cpu"]);
    expect(l.code).toBe(1);
    expect(l.err).toMatch(/--latest picks a training checkpoint: it needs --checkpoint <dir>/);
    const x = cli("export", [
      "--checkpoint",
      "/nonexistent",
      "--out",
      "/tmp/x",
      "--backend",
      "cpu",
    ]);
    expect(x.code).toBe(1);
    expect(x.err).toMatch(/error: --checkpoint \/nonexistent: not a directory/);
  }, 60_000);

  it("sweep rejects a lambda outside [0, 1] and a negative weight decay", () => {
    const s = cli("sweep", ["--model", "mnistnet1", "--teacher", "x", "--lambda", "0,1.5"]);
    expect(s.code).toBe(1);
    expect(s.err).toMatch(/1\.5 is outside \[0, 1\]/);
    const w = cli("sweep", [
      "--model",
      "mnistnet1",
      "--teacher",
      "x",
      "--lambda",
      "0",
      "--weight-decay",
      "-1",
    ]);
    expect(w.code).toBe(1);
    expect(w.err).toMatch(/--weight-decay: -1 is below 0/);
  }, 60_000);
});
