/**
 * Progress bar on stderr: loss, accuracy, images/s and ETA. On a TTY one line
 * is redrawn in place; otherwise (CI, pipes, log files) a plain line is printed
 * about every 10% of an epoch and at its end.
 */
export interface ProgressUpdate {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  acc: number;
  imagesPerSecond: number;
  /** Seconds left in this epoch and in the whole run. */
  etaEpoch: number;
  etaRun: number;
}

export interface ProgressSink {
  update(u: ProgressUpdate): void;
  /** Ends the epoch's bar and prints a summary line. */
  line(text: string): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export function formatProgress(u: ProgressUpdate, barWidth = 24): string {
  const frac = u.steps > 0 ? u.step / u.steps : 1;
  const filled = Math.min(barWidth, Math.round(frac * barWidth));
  const bar = `${"=".repeat(filled)}${filled < barWidth ? ">" : ""}${" ".repeat(Math.max(0, barWidth - filled - 1))}`;
  return (
    `epoch ${u.epoch}/${u.epochs} [${bar}] ${u.step}/${u.steps}` +
    ` loss ${u.loss.toFixed(4)} acc ${(100 * u.acc).toFixed(2)}%` +
    ` ${Math.round(u.imagesPerSecond)} img/s ETA ${formatDuration(u.etaEpoch)} (run ${formatDuration(u.etaRun)})`
  );
}

export class StderrProgress implements ProgressSink {
  private lastPlainFrac = -1;
  private drawn = false;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty: boolean = Boolean(process.stderr.isTTY),
  ) {}

  update(u: ProgressUpdate): void {
    const text = formatProgress(u);
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.drawn = true;
      return;
    }
    const frac = Math.floor((10 * u.step) / Math.max(1, u.steps));
    if (frac !== this.lastPlainFrac || u.step === u.steps) {
      if (u.step === 1 || frac !== this.lastPlainFrac) this.stream.write(`${text}\n`);
      this.lastPlainFrac = frac;
    }
  }

  line(text: string): void {
    if (this.tty && this.drawn) this.stream.write("\r\x1b[2K");
    this.drawn = false;
    this.lastPlainFrac = -1;
    this.stream.write(`${text}\n`);
  }
}

export const silentProgress: ProgressSink = { update() {}, line() {} };
