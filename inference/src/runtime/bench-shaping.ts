import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NET_PROFILES, type NetName, type NetProfile, nowMs } from "../transport/shaping";
import { openInProcessParties } from "./inprocess";
import { generateKeys } from "./keys";

export interface ShapingBenchRow {
  net: string;
  /** One-way latency set, ms. */
  latencyMs: number;
  /** Bandwidth set, MB/s (10^6 bytes). */
  bandwidthMBps: number;
  /** Payload of each ping and each pong, bytes. */
  bytes: number;
  iterations: number;
  /** What the shaper should add per round trip: 2 x (latency + bytes / bandwidth), ms. */
  expectedRttMs: number;
  /** Median measured round trip over real mutual-TLS WebSockets on loopback, ms. */
  measuredRttMs: number;
  /** The same ping-pong with no shaping (loopback + TLS + framing cost), ms. */
  baseRttMs: number;
  /** measured - base - expected, ms (what the shaper adds beyond its target). */
  errorMs: number;
}

export interface ShapingBenchOptions {
  nets?: NetName[];
  sizes?: number[];
  /** Round trips per (net, size); WAN ones are capped at 5 (each costs > 160 ms). */
  iterations?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function pingPong(profile: NetProfile, bytes: number, iterations: number, keysDir: string) {
  const keys = generateKeys(keysDir, { force: true });
  const ps = await openInProcessParties(keys, { profile });
  try {
    const [a, b] = ps.transports;
    const payload = new Uint8Array(bytes);
    const rtts: number[] = [];
    // one warm-up round trip
    for (let k = -1; k < iterations; k++) {
      const t0 = nowMs();
      a.send(1, payload);
      b.send(0, await b.receive(0));
      await a.receive(1);
      if (k >= 0) rtts.push(nowMs() - t0);
    }
    return median(rtts);
  } finally {
    await ps.close();
  }
}

/**
 * Ping-pong between two parties over a shaped link (real mutual-TLS
 * WebSockets on 127.0.0.1, in one process): shows that `--net` adds what it
 * says, 2 x (one-way latency + bytes / bandwidth) per round trip, on top of
 * the unshaped loopback cost measured in the same run.
 */
export async function benchShaping(opts: ShapingBenchOptions = {}): Promise<ShapingBenchRow[]> {
  const nets = opts.nets ?? ["lan", "wan"];
  const sizes = opts.sizes ?? [32, 1_000_000];
  const iterations = opts.iterations ?? 20;
  const dir = mkdtempSync(join(tmpdir(), "cbnn-bench-shaping-"));
  const rows: ShapingBenchRow[] = [];
  try {
    for (const bytes of sizes) {
      const base = await pingPong(NET_PROFILES.none, bytes, iterations, join(dir, "k"));
      for (const net of nets) {
        const p = NET_PROFILES[net];
        const n = net === "wan" ? Math.min(iterations, 5) : iterations;
        const measured = await pingPong(p, bytes, n, join(dir, "k"));
        const expected = 2 * (p.latencyMs + (bytes / p.bytesPerSec) * 1000);
        rows.push({
          net,
          latencyMs: p.latencyMs,
          bandwidthMBps: p.bytesPerSec / 1e6,
          bytes,
          iterations: n,
          expectedRttMs: expected,
          measuredRttMs: measured,
          baseRttMs: base,
          errorMs: measured - base - expected,
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function formatShapingBench(rows: ShapingBenchRow[]): string {
  const lines = [
    "net  latency(one-way)  bandwidth   payload    expected RTT  measured RTT  unshaped RTT  excess",
  ];
  for (const r of rows) {
    lines.push(
      [
        r.net.padEnd(4),
        `${r.latencyMs} ms`.padStart(16),
        `${r.bandwidthMBps} MB/s`.padStart(11),
        `${r.bytes} B`.padStart(10),
        `${r.expectedRttMs.toFixed(3)} ms`.padStart(13),
        `${r.measuredRttMs.toFixed(3)} ms`.padStart(13),
        `${r.baseRttMs.toFixed(3)} ms`.padStart(13),
        `${r.errorMs >= 0 ? "+" : ""}${r.errorMs.toFixed(3)} ms`.padStart(10),
      ].join(" "),
    );
  }
  return lines.join("\n");
}
