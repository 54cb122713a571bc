import type { WebSocket } from "ws";
import type { PartyId } from "./types";

/** Human names of the parties, used in every error message. */
export const PARTY_NAMES: Record<PartyId, string> = {
  0: "P0 (data owner)",
  1: "P1 (model owner)",
  2: "P2 (helper)",
};

export function partyName(p: PartyId): string {
  return PARTY_NAMES[p];
}

type HeldEvent =
  | { kind: "message"; data: unknown; isBinary: boolean }
  | { kind: "error"; err: Error }
  | { kind: "close"; code: number };

export interface SocketHandlers {
  message: (data: unknown, isBinary: boolean) => void;
  error: (err: Error) => void;
  close: (code: number) => void;
}

/**
 * An authenticated socket whose events are held from the moment it opens
 * until a transport takes it over: a fast peer may send its first frame (or
 * die) before this party has built its transport, and ws drops events that
 * have no listener.
 */
export class HeldSocket {
  private held: HeldEvent[] | null = [];
  private readonly onMessage = (data: unknown, isBinary: boolean) =>
    this.held?.push({ kind: "message", data, isBinary });
  private readonly onError = (err: Error) => this.held?.push({ kind: "error", err });
  private readonly onClose = (code: number) => this.held?.push({ kind: "close", code });

  constructor(readonly ws: WebSocket) {
    ws.binaryType = "nodebuffer";
    ws.on("message", this.onMessage);
    ws.on("error", this.onError);
    ws.on("close", this.onClose);
  }

  /** Installs the real handlers and replays what arrived meanwhile, in order. */
  takeOver(h: SocketHandlers): void {
    const held = this.held;
    if (held === null) throw new Error("socket already taken over");
    this.held = null;
    this.ws.off("message", this.onMessage);
    this.ws.off("error", this.onError);
    this.ws.off("close", this.onClose);
    this.ws.on("message", h.message);
    this.ws.on("error", h.error);
    this.ws.on("close", h.close);
    for (const e of held) {
      if (e.kind === "message") h.message(e.data, e.isBinary);
      else if (e.kind === "error") h.error(e.err);
      else h.close(e.code);
    }
  }
}
