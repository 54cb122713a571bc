import {
  type PartyId,
  type Phase,
  type StampedMessage,
  StatsRecorder,
  type Transport,
  type TransportStats,
} from "./types";

interface Waiter {
  resolve: (m: StampedMessage) => void;
  reject: (e: Error) => void;
}

/** One direction of one link: a FIFO of messages and of waiting receivers. */
class Channel {
  private readonly queue: StampedMessage[] = [];
  private readonly waiters: Waiter[] = [];
  private closedWith: Error | null = null;

  push(m: StampedMessage): void {
    if (this.closedWith) throw this.closedWith;
    const w = this.waiters.shift();
    if (w) w.resolve(m);
    else this.queue.push(m);
  }

  pop(): Promise<StampedMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  close(err: Error): void {
    this.closedWith = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  get pending(): number {
    return this.queue.length;
  }
}

export interface MemoryTransportOptions {
  /**
   * Delay in ms before each message reaches its receiver (drawn per message;
   * order per link is kept). Tests use it to check that nothing, round counts
   * included, depends on when messages arrive. Default: none (delivered at once).
   */
  delayMs?: () => number;
}

/**
 * In-memory transport for three parties in one process. Messages are copied
 * at send time and delivered through promises, so the three parties' protocol
 * code runs concurrently under `Promise.all` in a single thread.
 */
export class MemoryTransport implements Transport {
  private readonly recorder = new StatsRecorder();
  private closed = false;
  /** Per peer: messages on their way under `delayMs`, in send order. */
  private readonly delayed: { due: number; m: StampedMessage }[][] = [[], [], []];

  constructor(
    readonly party: PartyId,
    /** inbox[from] = channel carrying messages from `from` to this party. */
    private readonly inbox: Channel[],
    private readonly peers: () => MemoryTransport[],
    private readonly delayMs?: () => number,
  ) {}

  get phase(): Phase {
    return this.recorder.phase;
  }

  setPhase(phase: Phase): void {
    this.recorder.setPhase(phase);
  }

  send(peer: PartyId, data: Uint8Array): void {
    if (peer === this.party) throw new Error(`party ${this.party}: cannot send to itself`);
    if (this.closed) throw new Error(`party ${this.party}: transport closed`);
    const stamp = this.recorder.onSend(peer, data.byteLength);
    const channel = this.peers()[peer].inbox[this.party];
    const m = { data: data.slice(), stamp };
    if (!this.delayMs) {
      channel.push(m);
      return;
    }
    // one queue and one timer per link: dues never decrease, so order is kept
    const queue = this.delayed[peer];
    const last = queue.length > 0 ? queue[queue.length - 1].due : 0;
    queue.push({ due: Math.max(last, performance.now() + Math.max(0, this.delayMs())), m });
    if (queue.length === 1) this.armDelayed(peer, channel);
  }

  private armDelayed(peer: PartyId, channel: Channel): void {
    const queue = this.delayed[peer];
    if (queue.length === 0) return;
    setTimeout(
      () => {
        while (queue.length > 0 && queue[0].due <= performance.now()) {
          const { m } = queue.shift()!;
          if (!channel.closed) channel.push(m);
        }
        this.armDelayed(peer, channel);
      },
      Math.max(0, queue[0].due - performance.now()),
    );
  }

  async receive(peer: PartyId): Promise<Uint8Array> {
    if (peer === this.party) throw new Error(`party ${this.party}: cannot receive from itself`);
    const m = await this.inbox[peer].pop();
    this.recorder.onReceive(peer, m.data.byteLength, m.stamp);
    return m.data;
  }

  stats(): TransportStats {
    return this.recorder.snapshot();
  }

  /** Messages received but not yet read (a test can assert that none are left). */
  pendingMessages(): number {
    return this.inbox.reduce((s, c) => s + c.pending, 0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error(`party ${this.party}: transport closed`);
    for (const c of this.inbox) c.close(err);
  }
}

/** Three connected in-memory transports, index = party id. */
export function createMemoryTransports(
  opts: MemoryTransportOptions = {},
): [MemoryTransport, MemoryTransport, MemoryTransport] {
  const all: MemoryTransport[] = [];
  const peers = () => all;
  for (let p = 0; p < 3; p++) {
    all.push(
      new MemoryTransport(
        p as PartyId,
        [new Channel(), new Channel(), new Channel()],
        peers,
        opts.delayMs,
      ),
    );
  }
  return all as [MemoryTransport, MemoryTransport, MemoryTransport];
}
