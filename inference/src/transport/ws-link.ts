import { createServer, type Server } from "node:https";
import type { ConnectionOptions, PeerCertificate, TLSSocket } from "node:tls";
import { type ClientOptions, WebSocket, WebSocketServer } from "ws";
import type { PartyId } from "./types";
import { HeldSocket, partyName } from "./ws-socket";

/**
 * Link setup between the three parties: mutual TLS (TLS 1.3) WebSockets.
 *
 * Every party holds a certificate signed by a CA all three trust, with subject
 * CN = `cbnn-party-<id>`. Topology: party i listens for the parties with a
 * higher id and dials the ones with a lower id (P2 dials P0 and P1; P1 dials
 * P0). Both sides check the peer's certificate chain against the CA AND its
 * CN against the party they expect there, so a connection from anyone else
 * (no certificate, another CA, or a valid party certificate arriving where
 * that party is not expected) is refused and logged; the run goes on.
 */

export interface LinkEndpoint {
  host: string;
  port: number;
}

export interface LinkTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface ConnectOptions {
  party: PartyId;
  /** Index = party id. */
  endpoints: readonly [LinkEndpoint, LinkEndpoint, LinkEndpoint];
  tls: LinkTls;
  /** Maps a certificate CN to the party it names (null: not a party). */
  identify: (cn: unknown) => PartyId | null;
  /** The CN party `p`'s certificate must carry. */
  commonName: (p: PartyId) => string;
  /** Give up dialing / waiting for peers after this long (ms). */
  connectTimeoutMs: number;
  /** Frames larger than this are refused by ws (the link fails). */
  maxFrameBytes: number;
  log?: (line: string) => void;
  /** Bind address for listening (default: this party's endpoint host). */
  listenHost?: string;
}

export interface PartyLinks {
  sockets: Map<PartyId, HeldSocket>;
  /** Stops listening and drops unauthenticated leftovers. */
  close(): Promise<void>;
  /** Connections refused so far (strangers). */
  readonly refused: number;
}

/** A listener that is up (port bound) but whose peers may not have dialed yet. */
export interface PartyListener {
  /** The bound port (useful when the endpoint asked for port 0). */
  port: number | null;
  links: Promise<PartyLinks>;
}

function cnOf(cert: { subject?: Record<string, unknown> } | null | undefined): unknown {
  const cn = cert?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

/**
 * Binds this party's listener first (so "port in use" fails before any
 * connection), then dials the lower-id peers with retries until every link is
 * up or `connectTimeoutMs` passes.
 */
export async function openPartyLinks(opts: ConnectOptions): Promise<PartyListener> {
  const me = opts.party;
  const log = opts.log ?? (() => {});
  const name = partyName(me);
  const sockets = new Map<PartyId, HeldSocket>();
  const expectIn = ([0, 1, 2] as PartyId[]).filter((p) => p > me);
  const dialOut = ([0, 1, 2] as PartyId[]).filter((p) => p < me);
  let refused = 0;
  let server: Server | null = null;
  let wss: WebSocketServer | null = null;
  let port: number | null = null;
  let settleIncoming: (() => void) | null = null;
  const incomingDone = new Promise<void>((r) => {
    settleIncoming = r;
  });
  const checkIncomingDone = () => {
    if (expectIn.every((p) => sockets.has(p))) settleIncoming?.();
  };

  if (expectIn.length > 0) {
    const ep = opts.endpoints[me];
    server = createServer({
      ca: opts.tls.ca,
      cert: opts.tls.cert,
      key: opts.tls.key,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.3",
    });
    server.on("tlsClientError", (err, socket) => {
      refused++;
      log(
        `${name}: refused a connection from ${socket.remoteAddress}:${socket.remotePort}: TLS authentication failed (${err.message})`,
      );
    });
    wss = new WebSocketServer({
      server,
      maxPayload: opts.maxFrameBytes,
      perMessageDeflate: false,
      verifyClient: (info, cb) => {
        const sock = info.req.socket as TLSSocket;
        const who = opts.identify(cnOf(sock.getPeerCertificate()));
        const from = `${sock.remoteAddress}:${sock.remotePort}`;
        if (!sock.authorized || who === null || !expectIn.includes(who)) {
          refused++;
          log(
            `${name}: refused a connection from ${from}: certificate does not name an expected party`,
          );
          cb(false, 403, "not an expected party");
          return;
        }
        if (sockets.has(who)) {
          refused++;
          log(`${name}: refused a second connection claiming ${partyName(who)} from ${from}`);
          cb(false, 409, "already connected");
          return;
        }
        cb(true);
      },
    });
    wss.on("connection", (ws, req) => {
      const sock = req.socket as TLSSocket;
      const who = opts.identify(cnOf(sock.getPeerCertificate()));
      if (who === null || sockets.has(who)) {
        ws.terminate();
        return;
      }
      sockets.set(who, new HeldSocket(ws));
      log(`${name}: ${partyName(who)} connected from ${sock.remoteAddress}`);
      checkIncomingDone();
    });
    wss.on("error", () => {});
    const host = opts.listenHost ?? ep.host;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        const why =
          e.code === "EADDRINUSE"
            ? "port already in use"
            : e.code === "EADDRNOTAVAIL"
              ? "address not available on this host"
              : e.code === "EACCES"
                ? "permission denied"
                : e.message;
        reject(new Error(`${name}: cannot listen on ${host}:${ep.port}: ${why}`));
      };
      server!.once("error", onError);
      server!.listen(ep.port, host, () => {
        server!.off("error", onError);
        resolve();
      });
    });
    const addr = server.address();
    port = typeof addr === "object" && addr ? addr.port : ep.port;
  } else {
    settleIncoming!();
  }

  const closeAll = async () => {
    if (wss) {
      const ours = new Set([...sockets.values()].map((h) => h.ws));
      for (const c of wss.clients) if (!ours.has(c)) c.terminate();
      wss.close();
    }
    if (server) {
      const s = server;
      await new Promise<void>((r) => {
        s.close(() => r());
        s.closeIdleConnections();
        setTimeout(r, 500).unref();
      });
    }
  };

  const links = (async (): Promise<PartyLinks> => {
    const deadline = Date.now() + opts.connectTimeoutMs;
    try {
      await Promise.all([
        ...dialOut.map(async (peer) => {
          sockets.set(peer, new HeldSocket(await dial(opts, peer, deadline, log)));
        }),
        Promise.race([
          incomingDone,
          new Promise<never>((_, reject) =>
            setTimeout(() => {
              const missing = expectIn.filter((p) => !sockets.has(p)).map(partyName);
              reject(
                new Error(
                  `${name}: ${missing.join(" and ")} did not connect within ${(opts.connectTimeoutMs / 1000).toFixed(0)} s (step "connect")`,
                ),
              );
            }, opts.connectTimeoutMs).unref(),
          ),
        ]),
      ]);
    } catch (e) {
      for (const s of sockets.values()) s.ws.terminate();
      await closeAll();
      throw e;
    }
    // The listener stays up until close(): a stranger who tries during the run
    // is refused and logged, and the established links are not disturbed.
    return {
      sockets,
      close: closeAll,
      get refused() {
        return refused;
      },
    };
  })();
  links.catch(() => {});
  return { port, links };
}

async function dial(
  opts: ConnectOptions,
  peer: PartyId,
  deadline: number,
  log: (line: string) => void,
): Promise<WebSocket> {
  const ep = opts.endpoints[peer];
  const me = partyName(opts.party);
  const url = `wss://${ep.host.includes(":") ? `[${ep.host}]` : ep.host}:${ep.port}/`;
  let lastErr = "";
  let attempt = 0;
  while (Date.now() < deadline) {
    attempt++;
    const res = await new Promise<WebSocket | { retry: boolean; why: string }>((resolve) => {
      const tlsOpts: ConnectionOptions = {
        ca: opts.tls.ca,
        cert: opts.tls.cert,
        key: opts.tls.key,
        minVersion: "TLSv1.3",
        servername: ep.host.match(/^[\d.:]+$/) ? undefined : ep.host,
        // Authenticate the party by its certificate's CN under our CA (not by host name).
        checkServerIdentity: (_host: string, cert: PeerCertificate) => {
          const cn = cnOf(cert);
          if (opts.identify(cn) !== peer) {
            return new Error(
              `certificate names "${String(cn)}", expected ${opts.commonName(peer)} (${partyName(peer)})`,
            );
          }
          return undefined;
        },
      };
      // @types/ws declares checkServerIdentity with the wrong signature; ws passes
      // these options to tls.connect unchanged.
      const ws = new WebSocket(url, {
        ...(tlsOpts as ClientOptions),
        maxPayload: opts.maxFrameBytes,
        perMessageDeflate: false,
        handshakeTimeout: Math.max(1000, Math.min(10_000, deadline - Date.now())),
      });
      const onError = (e: Error & { code?: string }) => {
        ws.removeAllListeners();
        ws.on("error", () => {});
        ws.terminate();
        const retry =
          e.code === "ECONNREFUSED" ||
          e.code === "ECONNRESET" ||
          e.code === "EHOSTUNREACH" ||
          e.code === "ETIMEDOUT" ||
          /Opening handshake has timed out/.test(e.message);
        resolve({ retry, why: e.message });
      };
      ws.once("error", onError);
      ws.once("unexpected-response", (_req, res) => {
        ws.removeAllListeners();
        ws.on("error", () => {});
        ws.terminate();
        resolve({
          retry: res.statusCode === 409,
          why: `${partyName(peer)} refused the connection (HTTP ${res.statusCode})`,
        });
      });
      ws.once("open", () => {
        ws.off("error", onError);
        resolve(ws);
      });
    });
    if (res instanceof WebSocket) {
      log(`${me}: connected to ${partyName(peer)} at ${ep.host}:${ep.port}`);
      return res;
    }
    lastErr = res.why;
    if (!res.retry) {
      throw new Error(
        `${me}: cannot authenticate ${partyName(peer)} at ${ep.host}:${ep.port}: ${res.why} (step "connect")`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(1000, 100 * attempt)));
  }
  throw new Error(
    `${me}: could not reach ${partyName(peer)} at ${ep.host}:${ep.port} within ${(opts.connectTimeoutMs / 1000).toFixed(0)} s (step "connect"; last error: ${lastErr})`,
  );
}
