import { describe, expect, it } from "vitest";
import { formatDuration, formatProgress, StderrProgress } from "./progress";

const u = {
  epoch: 2,
  epochs: 5,
  step: 50,
  steps: 100,
  loss: 0.51234,
  acc: 0.8312,
  imagesPerSecond: 1234.4,
  etaEpoch: 65,
  etaRun: 3725,
};

describe("progress", () => {
  it("formats loss, accuracy, images/s and ETAs", () => {
    const s = formatProgress(u, 10);
    expect(s).toBe(
      "epoch 2/5 [=====>    ] 50/100 loss 0.5123 acc 83.12% 1234 img/s ETA 1:05 (run 1:02:05)",
    );
    expect(formatDuration(Number.NaN)).toBe("--:--");
    expect(formatDuration(59.6)).toBe("1:00");
  });

  it("prints plain lines about every 10% when not a TTY", () => {
    const out: string[] = [];
    const stream = { write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream;
    const p = new StderrProgress(stream, false);
    for (let step = 1; step <= 100; step++) p.update({ ...u, step });
    p.line("done");
    expect(out.every((l) => l.endsWith("\n") && !l.includes("\r"))).toBe(true);
    expect(out.length).toBeGreaterThanOrEqual(10);
    expect(out.length).toBeLessThanOrEqual(13);
    expect(out[out.length - 1]).toBe("done\n");
  });

  it("redraws one line on a TTY", () => {
    const out: string[] = [];
    const stream = { write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream;
    const p = new StderrProgress(stream, true);
    p.update(u);
    p.update({ ...u, step: 51 });
    expect(out.every((l) => l.startsWith("\r"))).toBe(true);
  });
});
