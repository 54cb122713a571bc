export interface TimingStats {
  medianMs: number;
  minMs: number;
  maxMs: number;
  repeats: number;
}

export function stats(samples: number[]): TimingStats {
  if (samples.length === 0) throw new Error("stats: no samples");
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { medianMs: median, minMs: s[0]!, maxMs: s[s.length - 1]!, repeats: s.length };
}

/** Time `f` `repeats` times after `warmup` untimed calls; `f` must finish its work (sync). */
export async function timeIt(
  f: () => void | Promise<void>,
  repeats: number,
  warmup = 1,
): Promise<TimingStats> {
  for (let i = 0; i < warmup; i++) await f();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await f();
    samples.push(performance.now() - t0);
  }
  return stats(samples);
}

export function fmt(s: TimingStats): string {
  return `median ${s.medianMs.toFixed(1)} ms (min ${s.minMs.toFixed(1)}, max ${s.maxMs.toFixed(1)}, n=${s.repeats})`;
}
