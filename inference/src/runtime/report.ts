import type { EvalReport } from "./party";

const MB = 1e6;

/** A one-line progress bar: `[#####.....] 500/1000 images  12.3 s  ETA 12.3 s`. */
export function progressLine(done: number, total: number, elapsedMs: number, width = 30): string {
  const frac = total > 0 ? done / total : 1;
  const fill = Math.round(frac * width);
  const eta = done > 0 ? (elapsedMs / done) * (total - done) : Number.NaN;
  return `[${"#".repeat(fill)}${".".repeat(width - fill)}] ${done}/${total} images  ${(elapsedMs / 1000).toFixed(1)} s${done > 0 && done < total ? `  ETA ${(eta / 1000).toFixed(1)} s` : ""}`;
}

/** Writes a progress bar to a TTY stream in place (or one line per update elsewhere, at most every 10%). */
export function progressPrinter(stream: NodeJS.WriteStream): (done: number, total: number) => void {
  const t0 = performance.now();
  let lastTenth = -1;
  return (done, total) => {
    const line = progressLine(done, total, performance.now() - t0);
    if (stream.isTTY) {
      stream.write(`\r${line}${done >= total ? "\n" : ""}`);
    } else {
      const tenth = Math.floor((10 * done) / total);
      if (tenth !== lastTenth || done >= total) {
        lastTenth = tenth;
        stream.write(`${line}\n`);
      }
    }
  };
}

/** The human-readable result of a secure evaluation (printed by the data owner / secure-eval). */
export function formatReport(r: EvalReport): string {
  const lines: string[] = [];
  lines.push(
    `model ${r.model}: ${r.count} image(s) in ${r.batches} batch(es) of up to ${r.batch}; MSB protocol: ${r.msb}${r.msb === "cbnn" ? ` (paper Alg. 3, u opened to ${r.cbnnOpen === "all" ? "all parties" : "the helper"}; leaks |x| bounds: see docs/protocols.md)` : " (boolean-circuit MSB)"}${r.truncation ? `; truncation: ${r.truncation}` : ""}`,
  );
  lines.push(
    `network: ${r.net}${r.net === "none" ? " (no shaping, loopback)" : ` (${r.latencyMs} ms one-way latency, ${r.bandwidthMBps} MB/s per link)`}`,
  );
  if (r.predictedClasses !== null) {
    r.predictedClasses.forEach((c, k) => {
      lines.push(
        `prediction: ${r.imageFiles?.[k] ?? `image ${k}`}: class ${r.predictions[k]} "${c}"`,
      );
    });
  }
  if (r.accuracy !== null) {
    const ok = r.predictions.filter((p, i) => p === r.labels![i]).length;
    lines.push(`accuracy: ${(100 * r.accuracy).toFixed(2)} % (${ok}/${r.count})`);
  }
  lines.push(
    `time: ${(r.totalMs / 1000).toFixed(3)} s from the first batch to the last logits (start-up and model setup not included), ${r.onlineMsPerImage.toFixed(3)} ms online per image (data owner)`,
  );
  lines.push(
    `rounds (data owner): ${r.onlineRoundsPerBatch} online per batch, ${r.onlineRounds} online in all, ${r.setupRounds} setup`,
  );
  lines.push(
    "traffic (MB sent = 10^6 bytes, as counted by the transport; setup = hello + seeds + model + offline):",
  );
  lines.push(
    "  party               setup sent  (model  offline)   online sent   online recv   online s",
  );
  const mb = (x: number | undefined, w: number) =>
    (x === undefined ? "-" : (x / MB).toFixed(3)).padStart(w);
  for (const p of r.parties) {
    lines.push(
      `  ${p.name.padEnd(18)} ${mb(p.setup.bytesSent, 11)} ${mb(p.modelSetup?.bytesSent, 8)} ${mb(p.offline?.bytesSent, 8)}  ${mb(p.online.bytesSent, 13)} ${mb(p.online.bytesReceived, 13)} ${(p.onlineMs / 1000).toFixed(3).padStart(10)}`,
    );
  }
  const tot = (f: (p: EvalReport["parties"][number]) => number | undefined) =>
    r.parties.reduce((a, p) => a + (f(p) ?? 0), 0);
  const online = tot((p) => p.online.bytesSent);
  lines.push(
    `  all parties        ${mb(
      tot((p) => p.setup.bytesSent),
      11,
    )} ${mb(
      tot((p) => p.modelSetup?.bytesSent),
      8,
    )} ${mb(
      tot((p) => p.offline?.bytesSent),
      8,
    )}  ${mb(online, 13)}   (online per image: ${(online / MB / r.count).toFixed(4)} MB)`,
  );
  lines.push(
    "  (model: weights shared once per run; offline: per-batch input-independent material, per image)",
  );
  const refused = r.parties.reduce((a, p) => a + p.refused, 0);
  if (refused > 0) lines.push(`refused connections from strangers: ${refused}`);
  return lines.join("\n");
}
