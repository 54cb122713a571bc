/**
 * The per-batch fields of the data owner's report that the benchmarks read
 * (runtime/party.ts: batchOfflineMs, batchOnlineMs, offlineRoundsPerBatch).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  evaluateFixed,
  exportModel,
  randomDenseSignNet,
  randomImages,
  saveExport,
  seededRandom,
} from "@cbnn/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPartiesConfig } from "../runtime/config";
import { generateKeys, type KeyFiles } from "../runtime/keys";
import { freePorts, writeLocalConfig } from "../runtime/local";
import { type EvalReport, runParty } from "../runtime/party";

let dir: string;
let keys: KeyFiles;
let exportDir: string;
let expected: number[];
const count = 5;
const images = randomImages(seededRandom(11), count, [8, 8, 1]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cbnn-batch-timings-"));
  keys = generateKeys(join(dir, "keys"));
  const r = exportModel(randomDenseSignNet(7), { source: { checkpoint: "test" } });
  exportDir = join(dir, "export");
  await saveExport(exportDir, r.model, r.weights);
  expected = Array.from(evaluateFixed(r.model, r.weights, images, count));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(msb: "secure" | "cbnn", batch: number): Promise<EvalReport> {
  const ports = await freePorts(3);
  const config = loadPartiesConfig(
    writeLocalConfig(join(dir, `cfg-${ports[0]}.json`), keys, ports, {
      timeoutMs: 20_000,
      connectTimeoutMs: 10_000,
    }),
  );
  const [r0] = await Promise.all([
    runParty({ party: 0, config, msb, input: { raw: { images, count }, batch } }),
    runParty({ party: 1, config, exportDir }),
    runParty({ party: 2, config }),
  ]);
  if (r0.kind !== "report") throw new Error("expected the data owner's report");
  return r0.report;
}

describe("EvalReport per-batch timings and offline rounds", () => {
  it("has one offline and one online time per batch, and the offline rounds P0 waits for", async () => {
    for (const msb of ["secure", "cbnn"] as const) {
      const r = await run(msb, 2);
      expect(r.logits).toEqual(expected);
      expect(r.batches).toBe(3);
      expect(r.batchOfflineMs).toHaveLength(3);
      expect(r.batchOnlineMs).toHaveLength(3);
      for (const x of [...r.batchOfflineMs!, ...r.batchOnlineMs!]) expect(x).toBeGreaterThan(0);
      // the per-batch steps lie inside P0's wall time from the first batch to the last logits
      const sum = [...r.batchOfflineMs!, ...r.batchOnlineMs!].reduce((a, b) => a + b, 0);
      expect(sum).toBeLessThanOrEqual(r.totalMs + 1e-6);
      // the same offline protocol runs per batch: P0's offline clock advance of batch 1
      // times the batches is the offline rounds P0 counted over the run
      const p0 = r.parties[0];
      expect(r.offlineRoundsPerBatch! * r.batches).toBe(p0.offline!.rounds);
      if (msb === "cbnn") {
        // beta and (1 - 2 beta) r: a b2a and a multiplication that P0 takes part in
        expect(r.offlineRoundsPerBatch).toBeGreaterThanOrEqual(2);
      }
    }
  }, 60_000);
});
