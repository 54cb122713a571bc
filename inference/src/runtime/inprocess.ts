import { readFileSync } from "node:fs";
import { NET_PROFILES, type NetProfile } from "../transport/shaping";
import type { PartyId } from "../transport/types";
import { WsTransport } from "../transport/ws";
import { type LinkEndpoint, openPartyLinks, type PartyLinks } from "../transport/ws-link";
import { type KeyFiles, partyCommonName, partyFromCommonName } from "./keys";

export interface InProcessOptions {
  profile?: NetProfile;
  timeoutMs?: number;
  maxFrameBytes?: number;
  /** Per party: frame limit it sends/accepts (overrides maxFrameBytes; tests). */
  maxFrameBytesOf?: [number, number, number];
  log?: (line: string) => void;
}

export interface InProcessParties {
  transports: [WsTransport, WsTransport, WsTransport];
  /** Ports P0 and P1 listen on (P2 only dials). */
  ports: [number, number];
  /** Closes the transports (orderly) and the listeners. */
  close(): Promise<void>;
  links: [PartyLinks, PartyLinks, PartyLinks];
}

/**
 * Three parties in one process over real mutual-TLS WebSockets on 127.0.0.1
 * (ephemeral ports): the same links as three processes, for tests and the
 * shaping bench.
 */
export async function openInProcessParties(
  keys: KeyFiles,
  opts: InProcessOptions = {},
): Promise<InProcessParties> {
  const ca = readFileSync(keys.ca);
  const tls = (p: PartyId) => ({
    ca,
    cert: readFileSync(keys.parties[p].cert),
    key: readFileSync(keys.parties[p].key),
  });
  const frame = (p: PartyId) =>
    opts.maxFrameBytesOf?.[p] ?? opts.maxFrameBytes ?? 512 * 1024 * 1024;
  const endpoints: [LinkEndpoint, LinkEndpoint, LinkEndpoint] = [
    { host: "127.0.0.1", port: 0 },
    { host: "127.0.0.1", port: 0 },
    { host: "127.0.0.1", port: 0 },
  ];
  const common = (p: PartyId) => ({
    party: p,
    endpoints,
    tls: tls(p),
    identify: partyFromCommonName,
    commonName: partyCommonName,
    connectTimeoutMs: 10_000,
    maxFrameBytes: frame(p),
    log: opts.log,
  });
  // P0 and P1 bind first (ephemeral ports), then everyone dials.
  const l0 = await openPartyLinks(common(0));
  endpoints[0] = { host: "127.0.0.1", port: l0.port! };
  const l1 = await openPartyLinks(common(1));
  endpoints[1] = { host: "127.0.0.1", port: l1.port! };
  const l2 = await openPartyLinks(common(2));
  const links = (await Promise.all([l0.links, l1.links, l2.links])) as [
    PartyLinks,
    PartyLinks,
    PartyLinks,
  ];
  const transports = links.map(
    (l, p) =>
      new WsTransport({
        party: p as PartyId,
        sockets: l.sockets,
        profile: opts.profile ?? NET_PROFILES.none,
        timeoutMs: opts.timeoutMs,
        maxFrameBytes: frame(p as PartyId),
      }),
  ) as [WsTransport, WsTransport, WsTransport];
  return {
    transports,
    ports: [l0.port!, l1.port!],
    links,
    close: async () => {
      await Promise.all(transports.map((t) => t.close()));
      await Promise.all(links.map((l) => l.close()));
    },
  };
}
