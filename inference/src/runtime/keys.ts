import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { PartyId } from "../transport/types";

/**
 * The identity a party's certificate carries (subject CN). Parties authenticate
 * each other by this name under the shared CA, not by host name, so the same
 * certificates work on loopback and across hosts.
 */
export function partyCommonName(p: PartyId): string {
  return `cbnn-party-${p}`;
}

/** Inverse of {@link partyCommonName}; null for any other name. */
export function partyFromCommonName(cn: unknown): PartyId | null {
  if (cn === "cbnn-party-0") return 0;
  if (cn === "cbnn-party-1") return 1;
  if (cn === "cbnn-party-2") return 2;
  return null;
}

export interface KeyFiles {
  dir: string;
  ca: string;
  /** Per party: certificate and private key (PEM). */
  parties: [
    { cert: string; key: string },
    { cert: string; key: string },
    { cert: string; key: string },
  ];
}

export interface GenerateKeysOptions {
  /** Extra subjectAltName host names / IPs (besides localhost, 127.0.0.1, ::1). */
  hosts?: string[];
  /** Validity in days (default 30: these are throwaway keys). */
  days?: number;
  /** Overwrite existing files (default false: refuse). */
  force?: boolean;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === "ENOENT") {
      throw new Error(
        "openssl not found on PATH: `pnpm keys` uses the openssl CLI to make certificates (node:crypto cannot sign X.509); install openssl or make the CA and party certificates yourself",
      );
    }
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString().trim() ?? err.message}`);
  }
}

export function keyFilesIn(dir: string): KeyFiles {
  const d = resolve(dir);
  const party = (p: number) => ({ cert: join(d, `p${p}.crt`), key: join(d, `p${p}.key`) });
  return { dir: d, ca: join(d, "ca.crt"), parties: [party(0), party(1), party(2)] };
}

function isIp(h: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(":");
}

/**
 * Makes a throwaway CA (P-256) and one certificate per party signed by it
 * (CN = cbnn-party-<id>, usable as TLS server and client), with the openssl
 * CLI. The CA's private key is deleted afterwards: nobody can issue more.
 * Writes ca.crt, p0.crt/p0.key, p1.crt/p1.key, p2.crt/p2.key into `dir`.
 */
export function generateKeys(dir: string, opts: GenerateKeysOptions = {}): KeyFiles {
  const files = keyFilesIn(dir);
  const days = String(opts.days ?? 30);
  const all = [files.ca, ...files.parties.flatMap((p) => [p.cert, p.key])];
  if (!opts.force) {
    const there = all.filter((f) => existsSync(f));
    if (there.length > 0) {
      throw new Error(`${there[0]} already exists (pass --force to overwrite)`);
    }
  }
  for (const h of opts.hosts ?? []) {
    if (!/^[A-Za-z0-9.:-]+$/.test(h)) throw new Error(`--hosts: "${h}" is not a host name or IP`);
  }
  mkdirSync(files.dir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "cbnn-keys-"));
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl(
      [
        "req",
        "-x509",
        ...ec,
        "-keyout",
        "ca.key",
        "-out",
        files.ca,
        "-days",
        days,
        "-subj",
        "/CN=cbnn throwaway CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ],
      work,
    );
    const sans = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"];
    for (const h of opts.hosts ?? []) sans.push(isIp(h) ? `IP:${h}` : `DNS:${h}`);
    writeFileSync(
      join(work, "ext.cnf"),
      [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyAgreement",
        "extendedKeyUsage=serverAuth,clientAuth",
        `subjectAltName=${sans.join(",")}`,
        "",
      ].join("\n"),
    );
    for (let p = 0; p < 3; p++) {
      const f = files.parties[p];
      openssl(
        [
          "req",
          ...ec,
          "-keyout",
          f.key,
          "-out",
          "p.csr",
          "-subj",
          `/CN=${partyCommonName(p as PartyId)}`,
        ],
        work,
      );
      openssl(
        [
          "x509",
          "-req",
          "-in",
          "p.csr",
          "-CA",
          files.ca,
          "-CAkey",
          "ca.key",
          "-set_serial",
          `0x${randomBytes(12).toString("hex")}`,
          "-days",
          days,
          "-extfile",
          "ext.cnf",
          "-out",
          f.cert,
        ],
        work,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return files;
}
