import type { WebSocket } from "ws";
import { NET_PROFILES, type NetProfile, ShapedPipe } from "./shaping";
import {
  type PartyId,
  type Phase,
  type StampedMessage,
  StatsRecorder,
  type Transport,
  type TransportStats,
} from "./types";
import { decodeFrame, encodeAbort, encodeBye, encodeData, FrameError } from "./ws-frame";
import { type HeldSocket, partyName } from "./ws-socket";

export { PARTY_NAMES, partyName } from "./ws-socket";

/** The run stopped: a peer failed, hung, aborted, or sent something malformed. */
export class PartyLinkError extends Error {
  constructor(
    message: string,
    /** The peer the failure is attributed to, when there is one. */
    readonly peer: PartyId | null,
    readonly step: string,
  ) {
    super(message);
    this.name = "PartyLinkError";
  }
}

export interface WsTransportOptions {
  party: PartyId;
  /** One open, authenticated socket per peer (see `openPartyLinks`). */
  sockets: Map<PartyId, HeldSocket>;
  /** Shaping applied to every frame this party sends (default: none). */
  profile?: NetProfile;
  /** A receive that waits longer than this fails the run (default 60 s). */
  timeoutMs?: number;
  /** Largest frame this party sends (receivers enforce theirs with ws maxPayload). */
  maxFrameBytes?: number;
  /** Called once with the error that stopped the run. */
  onFailure?: (err: PartyLinkError) => void;
}

interface Waiter {
  resolve: (m: StampedMessage) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
}

class PeerLink {
  readonly inbox: StampedMessage[] = [];
  readonly waiters: Waiter[] = [];
  outbox: StampedMessage[] = [];
  flushScheduled = false;
  byeReceived = false;
  closed = false;
  readonly closedPromise: Promise<void>;
  private markClosed!: () => void;

  constructor(
    readonly id: PartyId,
    readonly socket: WebSocket,
    readonly pipe: ShapedPipe,
  ) {
    this.closedPromise = new Promise((r) => {
      this.markClosed = r;
    });
  }

  onSocketClosed(): void {
    this.closed = true;
    this.pipe.close();
    this.markClosed();
  }
}

/**
 * {@link Transport} over one WebSocket per peer (binary frames, see
 * `ws-frame.ts`). Messages queued for a peer during one tick of the event loop
 * go out as one frame. Any failure (a peer's socket closing before its BYE, an
 * ABORT frame, a malformed or oversized frame, a receive waiting past the
 * timeout) stops the whole transport: every pending and later receive rejects
 * with the same {@link PartyLinkError}, and the other peers get an ABORT frame
 * naming the cause, so all three parties stop instead of hanging.
 *
 * `step` is a label the runtime keeps current ("seed setup", "batch 3/10 ...");
 * error messages name it.
 */
export class WsTransport implements Transport {
  readonly party: PartyId;
  readonly profile: NetProfile;
  step = "setup";
  private readonly recorder = new StatsRecorder();
  private readonly links = new Map<PartyId, PeerLink>();
  private readonly timeoutMs: number;
  private readonly maxFrameBytes: number;
  private failure: PartyLinkError | null = null;
  private closing = false;
  private readonly onFailure?: (err: PartyLinkError) => void;

  constructor(opts: WsTransportOptions) {
    this.party = opts.party;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxFrameBytes = opts.maxFrameBytes ?? 512 * 1024 * 1024;
    this.onFailure = opts.onFailure;
    const profile = opts.profile ?? NET_PROFILES.none;
    this.profile = profile;
    for (const [peer, held] of opts.sockets) {
      if (peer === this.party) throw new Error(`${this.name}: a socket to itself`);
      const link = new PeerLink(peer, held.ws, new ShapedPipe(profile));
      this.links.set(peer, link);
    }
    for (const [peer, held] of opts.sockets) {
      const link = this.links.get(peer)!;
      held.takeOver({
        message: (data, isBinary) => this.onMessage(link, data, isBinary),
        error: (err) =>
          this.fail(`link to ${partyName(peer)} failed: ${describeWsError(err)}`, peer),
        close: (code) => {
          const orderly = link.byeReceived || this.closing;
          link.onSocketClosed();
          if (!orderly) {
            this.fail(`link to ${partyName(peer)} was lost (socket closed, code ${code})`, peer);
          }
        },
      });
    }
  }

  private get name(): string {
    return partyName(this.party);
  }

  get phase(): Phase {
    return this.recorder.phase;
  }

  setPhase(phase: Phase): void {
    this.chargeTime();
    this.recorder.setPhase(phase);
  }

  private phaseStart = performance.now();
  private readonly timeIn: Record<Phase, number> = { setup: 0, online: 0 };

  private chargeTime(): void {
    const now = performance.now();
    this.timeIn[this.recorder.phase] += now - this.phaseStart;
    this.phaseStart = now;
  }

  /** Wall-clock milliseconds spent so far in each phase (between setPhase calls). */
  phaseMs(): Record<Phase, number> {
    this.chargeTime();
    return { ...this.timeIn };
  }

  stats(): TransportStats {
    return this.recorder.snapshot();
  }

  /** Messages received but not yet read (a test can wait for one to be here). */
  pendingMessages(): number {
    let k = 0;
    for (const l of this.links.values()) k += l.inbox.length;
    return k;
  }

  /** The error that stopped the run, if any. */
  get failed(): PartyLinkError | null {
    return this.failure;
  }

  private link(peer: PartyId): PeerLink {
    const l = this.links.get(peer);
    if (!l) throw new Error(`${this.name}: no link to party ${peer}`);
    return l;
  }

  send(peer: PartyId, data: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (this.closing) throw new Error(`${this.name}: transport closed`);
    const link = this.link(peer);
    const stamp = this.recorder.onSend(peer, data.byteLength);
    link.outbox.push({ data: data.slice(), stamp });
    if (!link.flushScheduled) {
      link.flushScheduled = true;
      setImmediate(() => this.flush(link));
    }
  }

  private flush(link: PeerLink): void {
    link.flushScheduled = false;
    if (this.failure || link.outbox.length === 0) return;
    const frame = encodeData(link.outbox);
    link.outbox = [];
    if (frame.byteLength > this.maxFrameBytes) {
      this.fail(
        `frame of ${frame.byteLength} bytes to ${partyName(link.id)} exceeds the limit of ${this.maxFrameBytes} bytes (use a smaller batch)`,
        null,
      );
      return;
    }
    link.pipe.push(frame.byteLength, () => this.write(link, frame));
  }

  private write(link: PeerLink, frame: Uint8Array): void {
    if (link.closed || link.socket.readyState !== link.socket.OPEN) return;
    link.socket.send(frame, { binary: true });
  }

  receive(peer: PartyId): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const link = this.link(peer);
    const m = link.inbox.shift();
    // Deliver in a microtask even when the message is already here, as when it
    // arrives later: a send the caller makes before awaiting this receive must
    // not take its stamp from it (see "Rounds" in types.ts).
    if (m) return Promise.resolve(m).then((msg) => this.deliver(peer, msg));
    if (link.byeReceived) {
      return Promise.reject(
        new PartyLinkError(
          `${partyName(peer)} finished and closed the link while ${this.name} waited for it at step "${this.step}"`,
          peer,
          this.step,
        ),
      );
    }
    return new Promise<StampedMessage>((resolve, reject) => {
      const w: Waiter = { resolve, reject, timer: null };
      if (this.timeoutMs > 0 && Number.isFinite(this.timeoutMs)) {
        w.timer = setTimeout(() => {
          this.fail(
            `timed out after ${(this.timeoutMs / 1000).toFixed(1)} s waiting for ${partyName(peer)}`,
            peer,
          );
        }, this.timeoutMs);
      }
      link.waiters.push(w);
    }).then((msg) => this.deliver(peer, msg));
  }

  private deliver(peer: PartyId, m: StampedMessage): Uint8Array {
    this.recorder.onReceive(peer, m.data.byteLength, m.stamp);
    return m.data;
  }

  private onMessage(link: PeerLink, raw: unknown, isBinary: boolean): void {
    if (this.failure) return;
    const peer = link.id;
    if (!isBinary || !(raw instanceof Uint8Array)) {
      this.fail(`malformed frame from ${partyName(peer)}: not a binary frame`, peer);
      return;
    }
    let frame: ReturnType<typeof decodeFrame>;
    try {
      frame = decodeFrame(raw);
    } catch (e) {
      const msg = e instanceof FrameError ? e.message : String(e);
      this.fail(`malformed frame from ${partyName(peer)}: ${msg}`, peer);
      return;
    }
    if (frame.kind === "abort") {
      this.fail(`${partyName(peer)} stopped: ${frame.reason}`, peer, false);
      return;
    }
    if (frame.kind === "bye") {
      link.byeReceived = true;
      for (const w of link.waiters.splice(0)) {
        if (w.timer) clearTimeout(w.timer);
        w.reject(
          new PartyLinkError(
            `${partyName(peer)} finished and closed the link while ${this.name} waited for it at step "${this.step}"`,
            peer,
            this.step,
          ),
        );
      }
      return;
    }
    for (const m of frame.messages) {
      const w = link.waiters.shift();
      if (w) {
        if (w.timer) clearTimeout(w.timer);
        w.resolve(m);
      } else link.inbox.push(m);
    }
  }

  /**
   * Stops the run: records the first failure, rejects every waiting receive,
   * tells the peers (ABORT frame, unless `tellPeers` is false for an abort we
   * only relay) and closes the sockets.
   */
  fail(reason: string, peer: PartyId | null, tellPeers = true): PartyLinkError {
    if (this.failure) return this.failure;
    const err = new PartyLinkError(
      `${this.name}: ${reason} (step "${this.step}")`,
      peer,
      this.step,
    );
    this.failure = err;
    for (const link of this.links.values()) {
      for (const w of link.waiters.splice(0)) {
        if (w.timer) clearTimeout(w.timer);
        w.reject(err);
      }
      link.pipe.close();
      if (!link.closed && link.socket.readyState === link.socket.OPEN) {
        if (tellPeers || link.id !== peer) link.socket.send(encodeAbort(err.message));
        // Let the ABORT go out, then close.
        setTimeout(() => link.socket.terminate(), 200).unref();
        link.socket.close(1011, "run aborted");
      }
    }
    this.onFailure?.(err);
    return err;
  }

  /** Stops the run because of a local error (it is sent to the peers). */
  abort(reason: string): PartyLinkError {
    return this.fail(reason, null);
  }

  /**
   * Orderly end: sends what is queued (after shaping), a BYE frame, and closes
   * the sockets; resolves when they are closed (or after 2 s).
   */
  async close(): Promise<void> {
    if (this.closing) return;
    for (const link of this.links.values()) {
      if (link.flushScheduled) this.flush(link);
    }
    await Promise.all([...this.links.values()].map((l) => l.pipe.drain()));
    this.closing = true;
    for (const link of this.links.values()) {
      for (const w of link.waiters.splice(0)) {
        if (w.timer) clearTimeout(w.timer);
        w.reject(new Error(`${this.name}: transport closed`));
      }
      if (!link.closed && link.socket.readyState === link.socket.OPEN) {
        link.socket.send(encodeBye());
        link.socket.close(1000, "done");
      }
    }
    await Promise.race([
      Promise.all([...this.links.values()].map((l) => l.closedPromise)),
      new Promise((r) => setTimeout(r, 2000).unref()),
    ]);
    for (const link of this.links.values()) if (!link.closed) link.socket.terminate();
  }
}

function describeWsError(err: Error & { code?: string }): string {
  if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
    return `oversized frame (${err.message})`;
  }
  return err.message;
}
