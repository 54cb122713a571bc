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
   * Wall time of one secure-inference call (one batch) at the data owner:
   * its offline step (this batch's material) plus its online step, from P0's
   * own per-batch times (`EvalReport.batchOfflineMs` + `batchOnlineMs`). The
   * first batch is left out as warm-up when there are two or more. The model
   * setup (weights shared once per run) is not in it. For a report without
   * per-batch times: the gaps between P0's batch-done events (n - 1 samples).
   */
  perBatch: TimingStats | null;
  /** The online step alone (pixels shared, layers, logits to P0), same batches. */
  perBatchOnline: TimingStats | null;
  /** The offline step alone (per-batch material), same batches. */
  perBatchOffline: TimingStats | null;
  /** P0's online wall time per image (setup phase excluded), mean over the run. */
  onlineMsPerImage: number;
  /** P0's wall time from the first batch to the last logits (offline steps included), ms. */
  totalMs: number;
  imagesPerSec: number;
  /** Online rounds of one batch at P0. */
  roundsPerBatch: number;
  /** Rounds P0 waits for in one batch's offline step (null: not in the report). */
  offlineRoundsPerBatch: number | null;
  /** All setup rounds at P0 (hello, seeds, model setup, every batch's offline step). */
  setupRounds: number;
  /** All parties' online bytes sent, per image, MB (10^6 bytes). */
  onlineMBPerImage: number;
  /** All parties' per-batch offline material sent, per image, MB (null: not in the report). */
  offlineMBPerImage: number | null;
  /** All parties' model setup bytes sent (weight sharing, once per run), MB (null: not in the report). */
  modelSetupMB: number | null;
  /** Largest single party's online bytes sent per batch. */
  maxPartyOnlineBytesPerBatch: number;
  /** Largest single party's online + offline bytes sent per batch (what one timed call sends). */
  maxPartyBytesPerBatch: number;
  accuracy: number | null;
  predictions: number[];
  /**
   * Lower bound on one timed call (`perBatch`) under the shaping, and
   * measured median / bound. Its rounds are every round inside the timed
   * interval: online + the offline rounds P0 waits for.
   */
  bound: { ms: number; rounds: number; ratio: number | null; formula: string } | null;
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

/** Per-batch samples, the first (warm-up) left out when there are two or more. */
function steady(xs: number[] | undefined): TimingStats | null {
  if (!xs || xs.length === 0) return null;
  return stats(xs.length > 1 ? xs.slice(1) : xs);
}

export function summarise(spec: SecureRunSpec, r: EvalReport, stamps: number[]): SecureRunSummary {
  const haveSteps =
    r.batchOfflineMs !== undefined &&
    r.batchOnlineMs !== undefined &&
    r.batchOfflineMs.length === r.batches &&
    r.batchOnlineMs.length === r.batches;
  let perBatch: TimingStats | null;
  let perBatchOnline: TimingStats | null = null;
  let perBatchOffline: TimingStats | null = null;
  if (haveSteps) {
    perBatch = steady(r.batchOnlineMs!.map((x, i) => x + r.batchOfflineMs![i]!));
    perBatchOnline = steady(r.batchOnlineMs);
    perBatchOffline = steady(r.batchOfflineMs);
  } else {
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
    perBatch = gaps.length ? stats(gaps) : null;
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const online = sum(r.parties.map((p) => p.online.bytesSent));
  const hasOffline = r.parties.every((p) => p.offline !== undefined);
  const hasModel = r.parties.every((p) => p.modelSetup !== undefined);
  const offline = hasOffline ? sum(r.parties.map((p) => p.offline!.bytesSent)) : null;
  const maxOnline = Math.max(...r.parties.map((p) => p.online.bytesSent)) / r.batches;
  const maxAll =
    Math.max(...r.parties.map((p) => p.online.bytesSent + (p.offline?.bytesSent ?? 0))) / r.batches;
  const offRounds = r.offlineRoundsPerBatch ?? null;
  const profile = NET_PROFILES[spec.net];
  let bound: SecureRunSummary["bound"] = null;
  if (spec.net !== "none") {
    const rounds = r.onlineRoundsPerBatch + (offRounds ?? 0);
    const ms = lowerBoundMs(rounds, maxAll, profile.latencyMs, profile.bytesPerSec);
    bound = {
      ms,
      rounds,
      ratio: perBatch ? perBatch.medianMs / ms : null,
      formula: `(${r.onlineRoundsPerBatch} online + ${offRounds ?? "?"} offline) rounds x ${profile.latencyMs} ms + ${(maxAll / 1e6).toFixed(4)} MB / (2 x ${profile.bytesPerSec / 1e6} MB/s)`,
    };
  }
  return {
    net: spec.net,
    msb: spec.msb,
    batch: spec.batch,
    count: r.count,
    batches: r.batches,
    perBatch,
    perBatchOnline,
    perBatchOffline,
    onlineMsPerImage: r.onlineMsPerImage,
    totalMs: r.totalMs,
    imagesPerSec: (r.count * 1000) / r.totalMs,
    roundsPerBatch: r.onlineRoundsPerBatch,
    offlineRoundsPerBatch: offRounds,
    setupRounds: r.setupRounds,
    onlineMBPerImage: online / 1e6 / r.count,
    offlineMBPerImage: offline === null ? null : offline / 1e6 / r.count,
    modelSetupMB: hasModel ? sum(r.parties.map((p) => p.modelSetup!.bytesSent)) / 1e6 : null,
    maxPartyOnlineBytesPerBatch: maxOnline,
    maxPartyBytesPerBatch: maxAll,
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
