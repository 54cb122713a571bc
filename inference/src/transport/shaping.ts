/**
 * User-space network shaping for the party links (`--net lan|wan|none`).
 *
 * Model (per direction of each link, applied at the sender):
 * - bandwidth: a frame of `b` bytes occupies the link for `b / bytesPerSec`
 *   seconds; frames queue behind each other (the link is a FIFO pipe);
 * - latency: a frame leaves the pipe and is then held `latencyMs` more before
 *   it is written to the socket. The latency is ONE-WAY: a ping-pong over a
 *   shaped link costs 2 x latency + 2 x transmission time (+ the real loopback
 *   and TLS cost, which is tens of microseconds).
 * So frame k is written to the socket at
 *   txEnd_k = max(now_k, txEnd_{k-1}) + bytes_k / bandwidth,
 *   writeAt_k = txEnd_k + latency,
 * which keeps send order. The paper's settings: LAN 0.2 ms / 625 MB/s,
 * WAN 80 ms / 40 MB/s (MB = 10^6 bytes).
 *
 * Timers: setTimeout has ~1 ms granularity, too coarse for the LAN's 0.2 ms,
 * so the last 2 ms before a deadline are waited with setImmediate polling of
 * the high-resolution clock (it keeps the event loop free, at some CPU cost).
 */

export type NetName = "none" | "lan" | "wan";
export const NET_NAMES: readonly NetName[] = ["none", "lan", "wan"];

export interface NetProfile {
  name: string;
  /** One-way latency added to every frame, in milliseconds. */
  latencyMs: number;
  /** Link bandwidth in bytes per second (Infinity = unlimited). */
  bytesPerSec: number;
}

export const NET_PROFILES: Record<NetName, NetProfile> = {
  none: { name: "none", latencyMs: 0, bytesPerSec: Number.POSITIVE_INFINITY },
  lan: { name: "lan", latencyMs: 0.2, bytesPerSec: 625e6 },
  wan: { name: "wan", latencyMs: 80, bytesPerSec: 40e6 },
};

export function isNetName(s: string): s is NetName {
  return (NET_NAMES as readonly string[]).includes(s);
}

export function netProfile(name: string): NetProfile {
  if (!isNetName(name)) {
    throw new Error(`unknown network setting "${name}" (expected one of ${NET_NAMES.join(", ")})`);
  }
  return NET_PROFILES[name];
}

export function isUnshaped(p: NetProfile): boolean {
  return p.latencyMs <= 0 && !Number.isFinite(p.bytesPerSec);
}

/** Milliseconds on a monotonic high-resolution clock. */
export function nowMs(): number {
  return performance.now();
}

/** Runs `fn` at time `deadline` (nowMs() scale), with sub-millisecond precision. */
export function runAt(deadline: number, fn: () => void): { cancel: () => void } {
  let cancelled = false;
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  const poll = () => {
    immediate = null;
    if (cancelled) return;
    const left = deadline - nowMs();
    if (left <= 0) fn();
    else if (left > 2) timer = setTimeout(poll, left - 1.5);
    else immediate = setImmediate(poll);
  };
  // Never call fn synchronously: callers may still be setting up state.
  queueMicrotask(poll);
  return {
    cancel: () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}

interface Pending {
  at: number;
  write: () => void;
}

/**
 * One shaped direction of a link: `push(bytes, write)` calls `write` when the
 * frame would arrive at the far end under the profile. With the "none" profile
 * `write` runs synchronously.
 */
export class ShapedPipe {
  private txEnd = 0;
  private readonly queue: Pending[] = [];
  private timer: { cancel: () => void } | null = null;
  private closed = false;
  private readonly drainWaiters: (() => void)[] = [];

  constructor(readonly profile: NetProfile) {
    if (!(profile.latencyMs >= 0))
      throw new Error(`latency must be >= 0, got ${profile.latencyMs}`);
    if (!(profile.bytesPerSec > 0)) {
      throw new Error(`bandwidth must be > 0 bytes/s, got ${profile.bytesPerSec}`);
    }
  }

  /** Frames still held back by the shaper. */
  get pending(): number {
    return this.queue.length;
  }

  push(bytes: number, write: () => void): void {
    if (this.closed) return;
    if (isUnshaped(this.profile) && this.queue.length === 0) {
      write();
      return;
    }
    const now = nowMs();
    const tx = Number.isFinite(this.profile.bytesPerSec)
      ? (bytes / this.profile.bytesPerSec) * 1000
      : 0;
    this.txEnd = Math.max(now, this.txEnd) + tx;
    this.queue.push({ at: this.txEnd + this.profile.latencyMs, write });
    if (!this.timer) this.arm();
  }

  private arm(): void {
    const head = this.queue[0];
    if (!head) return;
    this.timer = runAt(head.at, () => {
      this.timer = null;
      const now = nowMs();
      while (this.queue.length > 0 && this.queue[0].at <= now) this.queue.shift()!.write();
      if (this.queue.length === 0) for (const r of this.drainWaiters.splice(0)) r();
      this.arm();
    });
  }

  /** Drops frames not yet written (used when the link fails). */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    this.queue.length = 0;
    for (const r of this.drainWaiters.splice(0)) r();
  }

  /** Resolves once every queued frame has been written (or the pipe closed). */
  drain(): Promise<void> {
    if (this.queue.length === 0 || this.closed) return Promise.resolve();
    return new Promise<void>((r) => this.drainWaiters.push(r));
  }
}
