/**
 * Transport contract between the three parties (P0 data owner, P1 model owner,
 * P2 helper). One {@link Transport} object per party; implementations: the
 * in-memory one in `memory.ts` (tests, one process) and the WebSocket one.
 *
 * Delivery: `send(peer, bytes)` never blocks and never fails synchronously for
 * a live link; messages from one peer arrive in the order they were sent and
 * `receive(peer)` resolves with the next unread message from that peer.
 * Implementations copy (or serialise) the bytes at `send` time, so a caller may
 * reuse its buffer right after sending.
 *
 * Rounds. A round is one wave of messages a party must wait for. It is counted
 * by causal depth (a Lamport clock over messages), which makes the count
 * independent of how fast a party does its local work:
 * - each party keeps a clock `c` (starts at 0);
 * - every message is stamped with `c + 1` of its sender at send time;
 * - on receiving a message stamped `t`, the receiver sets `c = max(c, t)`.
 * So a party's clock is the length of the longest chain of messages, each sent
 * after the previous one was received, that ends at this party. Messages sent
 * in parallel (no receive in between) belong to the same round: a reshare
 * (everyone sends, then receives) is 1 round at every party; routing a value
 * through a helper (A -> H, then H -> B) is 2 rounds at B. The stamp travels
 * with the message (the WebSocket framing carries it as a u32 in the frame
 * header; header bytes are not counted as payload bytes).
 *
 * Two rules keep the count independent of arrival timing too:
 * 1. A transport hands a message to the caller, and raises its clock, in a
 *    promise continuation, never synchronously inside `receive`, even when the
 *    message is already there, so a send the caller makes before awaiting the
 *    receive keeps its stamp. (The WebSocket transport once delivered queued
 *    messages synchronously, and MnistNet3 counted 32 or 33 online rounds per
 *    image depending on arrival order; transport/ws.test.ts pins the rule on
 *    both transports.)
 * 2. Sub-protocols that one party runs concurrently share its clock, so a
 *    branch makes its sends before its first await (all of protocols/ does): a
 *    send after an await could follow the other branch's receive or not,
 *    depending on timing. layers/runner.test.ts runs whole models with random
 *    per-message delays (`createMemoryTransports({ delayMs })`) and asserts
 *    that every party's rounds and bytes stay the same.
 *
 * Phases. Statistics are kept per {@link Phase}: "setup" (seed exchange,
 * weight sharing: model-dependent but input-independent) and "online"
 * (everything that depends on the input). `setPhase` switches the bucket that
 * following sends/receives are charged to; the rounds of a phase are the clock
 * advance while that phase was current.
 */

export type PartyId = 0 | 1 | 2;
export type Phase = "setup" | "online";
export const PHASES: readonly Phase[] = ["setup", "online"];

/** Counters for one direction pair (this party <-> one peer) in one phase. */
export interface LinkStats {
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
}

/** Statistics of one phase at one party. */
export interface PhaseStats {
  /** Per peer (indexed by party id; this party's own entry stays zero). */
  links: [LinkStats, LinkStats, LinkStats];
  /** Clock advance (rounds, as defined above) during this phase. */
  rounds: number;
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
}

export interface TransportStats {
  setup: PhaseStats;
  online: PhaseStats;
  /** The party's current clock (total causal depth so far). */
  clock: number;
}

/** A message as it crosses the wire: payload plus its round stamp. */
export interface StampedMessage {
  data: Uint8Array;
  stamp: number;
}

export interface Transport {
  readonly party: PartyId;
  /** Queue `data` for `peer` (bytes are copied). */
  send(peer: PartyId, data: Uint8Array): void;
  /** The next message from `peer`, in send order. Rejects if the link fails or closes. */
  receive(peer: PartyId): Promise<Uint8Array>;
  /** Charge the following traffic to `phase`. */
  setPhase(phase: Phase): void;
  readonly phase: Phase;
  /** A snapshot (deep copy) of the counters. */
  stats(): TransportStats;
  /** Release the links; pending receives reject. */
  close(): Promise<void>;
}

function emptyLink(): LinkStats {
  return { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 };
}

function emptyPhase(): PhaseStats {
  return {
    links: [emptyLink(), emptyLink(), emptyLink()],
    rounds: 0,
    bytesSent: 0,
    bytesReceived: 0,
    messagesSent: 0,
    messagesReceived: 0,
  };
}

/**
 * The bookkeeping every transport shares: the round clock and the per-phase,
 * per-peer counters. A transport calls {@link onSend} when it sends (and puts
 * the returned stamp on the wire) and {@link onReceive} when it hands a
 * message to the caller.
 */
export class StatsRecorder {
  private clock = 0;
  private current: Phase = "setup";
  private readonly phases: Record<Phase, PhaseStats> = {
    setup: emptyPhase(),
    online: emptyPhase(),
  };

  get phase(): Phase {
    return this.current;
  }

  setPhase(phase: Phase): void {
    if (phase !== "setup" && phase !== "online") throw new Error(`unknown phase "${phase}"`);
    this.current = phase;
  }

  /** Records a send of `bytes` to `peer`; returns the stamp for the message. */
  onSend(peer: PartyId, bytes: number): number {
    const p = this.phases[this.current];
    p.links[peer].bytesSent += bytes;
    p.links[peer].messagesSent++;
    p.bytesSent += bytes;
    p.messagesSent++;
    return this.clock + 1;
  }

  /** Records the delivery of a message stamped `stamp` from `peer`. */
  onReceive(peer: PartyId, bytes: number, stamp: number): void {
    const p = this.phases[this.current];
    p.links[peer].bytesReceived += bytes;
    p.links[peer].messagesReceived++;
    p.bytesReceived += bytes;
    p.messagesReceived++;
    if (stamp > this.clock) {
      p.rounds += stamp - this.clock;
      this.clock = stamp;
    }
  }

  snapshot(): TransportStats {
    const copy = (s: PhaseStats): PhaseStats => ({
      ...s,
      links: [{ ...s.links[0] }, { ...s.links[1] }, { ...s.links[2] }],
    });
    return { setup: copy(this.phases.setup), online: copy(this.phases.online), clock: this.clock };
  }
}

/** The difference b - a of two snapshots of one party (for costing one protocol call). */
export function statsDelta(a: TransportStats, b: TransportStats): TransportStats {
  const d = (x: PhaseStats, y: PhaseStats): PhaseStats => {
    const link = (i: number): LinkStats => ({
      bytesSent: y.links[i].bytesSent - x.links[i].bytesSent,
      bytesReceived: y.links[i].bytesReceived - x.links[i].bytesReceived,
      messagesSent: y.links[i].messagesSent - x.links[i].messagesSent,
      messagesReceived: y.links[i].messagesReceived - x.links[i].messagesReceived,
    });
    return {
      links: [link(0), link(1), link(2)],
      rounds: y.rounds - x.rounds,
      bytesSent: y.bytesSent - x.bytesSent,
      bytesReceived: y.bytesReceived - x.bytesReceived,
      messagesSent: y.messagesSent - x.messagesSent,
      messagesReceived: y.messagesReceived - x.messagesReceived,
    };
  };
  return { setup: d(a.setup, b.setup), online: d(a.online, b.online), clock: b.clock - a.clock };
}

export function isPartyId(x: number): x is PartyId {
  return x === 0 || x === 1 || x === 2;
}

/** Party index arithmetic: (i + k) mod 3. */
export function partyAt(i: PartyId, k: number): PartyId {
  return ((((i + k) % 3) + 3) % 3) as PartyId;
}
