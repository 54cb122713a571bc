import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { PartyId } from "../transport/types";

/** CLI names of the roles, index = party id. */
export const ROLES = ["data-owner", "model-owner", "helper"] as const;
export type Role = (typeof ROLES)[number];

export function roleToParty(role: string): PartyId {
  const i = (ROLES as readonly string[]).indexOf(role);
  if (i < 0) throw new Error(`unknown role "${role}" (expected ${ROLES.join(", ")})`);
  return i as PartyId;
}

export interface PartyEndpoint {
  role: Role;
  /** Host the others dial (and the address this party binds when it listens). */
  host: string;
  port: number;
  /** PEM certificate and key, absolute paths (resolved against the config file). */
  cert: string;
  key: string;
}

/**
 * A parties config (`configs/parties/*.json`). Relative paths are resolved
 * against the config file's directory. Every party reads the same file; each
 * needs only its own cert/key (plus the CA) on disk.
 */
export interface PartiesConfig {
  /** Where it came from (for error messages). */
  file: string;
  ca: string;
  /** Index = party id: [data owner, model owner, helper]. */
  parties: [PartyEndpoint, PartyEndpoint, PartyEndpoint];
  /** A receive that waits longer fails the run (ms). */
  timeoutMs: number;
  /** How long to keep dialing peers that are not up yet (ms). */
  connectTimeoutMs: number;
  /** Largest frame accepted or sent, bytes. */
  maxFrameBytes: number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_FRAME_BYTES = 512 * 1024 * 1024;

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Validates parsed JSON as a parties config; `file` names it in errors. */
export function parsePartiesConfig(json: unknown, file: string): PartiesConfig {
  const base = dirname(resolve(file));
  const err = (field: string, what: string) => new Error(`${file}: ${field} ${what}`);
  if (!isObject(json)) throw err("(top level)", "must be an object");
  const known = new Set([
    "ca",
    "parties",
    "timeoutMs",
    "connectTimeoutMs",
    "maxFrameMB",
    "$comment",
  ]);
  for (const k of Object.keys(json)) if (!known.has(k)) throw err(k, "is not a known field");
  const path = (field: string, v: unknown): string => {
    if (typeof v !== "string" || v.length === 0) throw err(field, "must be a non-empty string");
    return isAbsolute(v) ? v : resolve(base, v);
  };
  const num = (field: string, v: unknown, def: number, min: number): number => {
    if (v === undefined) return def;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
      throw err(field, `must be a number >= ${min}`);
    }
    return v;
  };
  const ca = path("ca", json.ca);
  if (!Array.isArray(json.parties) || json.parties.length !== 3) {
    throw err("parties", "must be an array of 3 entries (data-owner, model-owner, helper)");
  }
  const parties = json.parties.map((p: unknown, i: number): PartyEndpoint => {
    const f = `parties[${i}]`;
    if (!isObject(p)) throw err(f, "must be an object");
    for (const k of Object.keys(p)) {
      if (!["role", "host", "port", "cert", "key"].includes(k)) {
        throw err(`${f}.${k}`, "is not a known field");
      }
    }
    if (p.role !== ROLES[i]) throw err(`${f}.role`, `must be "${ROLES[i]}" (entry ${i})`);
    if (typeof p.host !== "string" || p.host.length === 0) {
      throw err(`${f}.host`, "must be a non-empty string");
    }
    if (typeof p.port !== "number" || !Number.isInteger(p.port) || p.port < 0 || p.port > 65535) {
      throw err(`${f}.port`, "must be an integer port 0..65535");
    }
    return {
      role: ROLES[i],
      host: p.host,
      port: p.port,
      cert: path(`${f}.cert`, p.cert),
      key: path(`${f}.key`, p.key),
    };
  }) as [PartyEndpoint, PartyEndpoint, PartyEndpoint];
  return {
    file,
    ca,
    parties,
    timeoutMs: num("timeoutMs", json.timeoutMs, DEFAULT_TIMEOUT_MS, 1),
    connectTimeoutMs: num("connectTimeoutMs", json.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1),
    maxFrameBytes: Math.floor(
      num("maxFrameMB", json.maxFrameMB, DEFAULT_MAX_FRAME_BYTES / 2 ** 20, 0.001) * 2 ** 20,
    ),
  };
}

export function loadPartiesConfig(file: string): PartiesConfig {
  if (!existsSync(file)) throw new Error(`${file}: parties config not found`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parsePartiesConfig(json, file);
}

/** PEM material one party needs: its own cert and key, and the CA. */
export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** Reads party `p`'s TLS files, with an error naming the missing one. */
export function readTlsMaterial(cfg: PartiesConfig, p: PartyId): TlsMaterial {
  const me = cfg.parties[p];
  const read = (field: string, f: string): Buffer => {
    if (!existsSync(f)) {
      throw new Error(
        `${cfg.file}: ${field} file ${f} not found (run \`pnpm keys\` to make local certificates)`,
      );
    }
    const b = readFileSync(f);
    if (!b.toString("latin1").includes("-----BEGIN")) {
      throw new Error(`${cfg.file}: ${field} file ${f} is not PEM`);
    }
    return b;
  };
  return {
    ca: read("ca", cfg.ca),
    cert: read(`parties[${p}].cert`, me.cert),
    key: read(`parties[${p}].key`, me.key),
  };
}
