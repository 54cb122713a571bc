import {
  type EvalReport,
  type MsbChoice,
  NET_PROFILES,
  type NetName,
  runLocalEval,
} from "@cbnn/inference";
import { stats, type TimingStats } from "./stats";

export interface SecureRunSpec {
  exportDir: string;
  dataset: string;
  net: NetName;
  msb: MsbChoice;
  batch: number;
  limit: number;
}

/** What the tables need from one three-process secure evaluation. */
export interface SecureRunSummary {
  net: NetName;
  msb: MsbChoice;
  batch: number;
  count: number;
  batches: number;
  /**
   * Wall time per secure-inference call (one batch) at the data owner: gaps
   * between consecutive batch-done events (the first batch has no start mark,
   * so n batches give n-1 samples). Includes the per-call weight sharing.
   */
  perBatch: TimingStats | null;
  /** P0's online wall time per image (setup phase excluded), mean over the run. */
  onlineMsPerImage: number;
  /** P0's wall time from the first batch to the last logits, ms. */
  totalMs: number;
  imagesPerSec: number;
  roundsPerBatch: number;
  setupRounds: number;
  /** All parties' online bytes sent, per image, MB (10^6 bytes). */
  onlineMBPerImage: number;
  /** All parties' setup bytes sent (hello, seeds, weight sharing of every call), per call, MB. */
  setupMBPerBatch: number;
  /** Largest single party's online bytes sent per batch. */
  maxPartyOnlineBytesPerBatch: number;
  accuracy: number | null;
  predictions: number[];
  /** Lower bound on one call under the shaping, and measured (perBatch median) / bound. */
  bound: { ms: number; ratio: number | null; formula: string } | null;
}

/**
 * Lower bound on the time of one secure call under shaping: every round waits
 * at least one one-way latency, and the busiest party must push its bytes over
 * its two outgoing links, each of bandwidth bw: R x latency + B_max / (2 bw).
 */
export function lowerBoundMs(
  rounds: number,
  maxPartyBytes: number,
  latencyMs: number,
  bytesPerSec: number,
): number {
  const tx = Number.isFinite(bytesPerSec) ? (maxPartyBytes / (2 * bytesPerSec)) * 1000 : 0;
  return rounds * latencyMs + tx;
}

export function summarise(spec: SecureRunSpec, r: EvalReport, stamps: number[]): SecureRunSummary {
  const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
  const perBatch = gaps.length ? stats(gaps) : null;
  const online = r.parties.reduce((a, p) => a + p.online.bytesSent, 0);
  const setup = r.parties.reduce((a, p) => a + p.setup.bytesSent, 0);
  const maxParty = Math.max(...r.parties.map((p) => p.online.bytesSent)) / r.batches;
  const profile = NET_PROFILES[spec.net];
  let bound: SecureRunSummary["bound"] = null;
  if (spec.net !== "none") {
    const ms = lowerBoundMs(
      r.onlineRoundsPerBatch,
      maxParty,
      profile.latencyMs,
      profile.bytesPerSec,
    );
    bound = {
      ms,
      ratio: perBatch ? perBatch.medianMs / ms : null,
      formula: `${r.onlineRoundsPerBatch} rounds x ${profile.latencyMs} ms + ${(maxParty / 1e6).toFixed(4)} MB / (2 x ${profile.bytesPerSec / 1e6} MB/s)`,
    };
  }
  return {
    net: spec.net,
    msb: spec.msb,
    batch: spec.batch,
    count: r.count,
    batches: r.batches,
    perBatch,
    onlineMsPerImage: r.onlineMsPerImage,
    totalMs: r.totalMs,
    imagesPerSec: (r.count * 1000) / r.totalMs,
    roundsPerBatch: r.onlineRoundsPerBatch,
    setupRounds: r.setupRounds,
    onlineMBPerImage: online / 1e6 / r.count,
    setupMBPerBatch: setup / 1e6 / r.batches,
    maxPartyOnlineBytesPerBatch: maxParty,
    accuracy: r.accuracy,
    predictions: r.predictions,
    bound,
  };
}

/** One secure evaluation as three local processes; an error becomes `{ error }` (a gap, not a crash). */
export async function secureRun(
  spec: SecureRunSpec,
): Promise<{ ok: SecureRunSummary } | { error: string }> {
  const stamps: number[] = [];
  const logs: string[] = [];
  try {
    const r = await runLocalEval({
      exportDir: spec.exportDir,
      dataset: spec.dataset,
      split: "test",
      limit: spec.limit,
      batch: spec.batch,
      net: spec.net,
      msb: spec.msb,
      timeoutMs: 300_000,
      onProgress: () => stamps.push(performance.now()),
      onLog: (p, line) => {
        logs.push(`P${p}: ${line}`);
        if (logs.length > 6) logs.shift();
      },
    });
    return { ok: summarise(spec, r, stamps) };
  } catch (e) {
    const tail = logs.length ? ` | last party log lines: ${logs.join(" / ")}` : "";
    return { error: `${(e as Error).message}${tail}`.replace(/\s+/g, " ").slice(0, 900) };
  }
}
