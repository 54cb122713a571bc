import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type DatasetName, isDatasetName, loadDataset, loadImageForModel } from "@cbnn/datasets";
import { loadExport } from "@cbnn/shared";
import { checkSecureModel, type MsbChoice } from "../layers/runner";
import type { NetName } from "../transport/shaping";
import type { PartyId } from "../transport/types";
import { partyName } from "../transport/ws";
import { loadPartiesConfig, ROLES } from "./config";
import { generateKeys, type KeyFiles } from "./keys";
import type { CbnnOpen, EvalReport, Truncation } from "./party";

/** Ports the OS says are free now on `host` (bound to port 0, then released). */
export async function freePorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((res, rej) => {
          const s = createServer();
          s.once("error", rej);
          s.listen(0, host, () => res(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    return typeof a === "object" && a ? a.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Writes a parties config for three parties on loopback using `keys`. */
export function writeLocalConfig(
  file: string,
  keys: KeyFiles,
  ports: number[],
  extra: { timeoutMs?: number; connectTimeoutMs?: number; maxFrameMB?: number } = {},
): string {
  const cfg = {
    ca: keys.ca,
    parties: ROLES.map((role, p) => ({
      role,
      host: "127.0.0.1",
      port: ports[p],
      cert: keys.parties[p].cert,
      key: keys.parties[p].key,
    })),
    ...extra,
  };
  writeFileSync(file, `${JSON.stringify(cfg, null, 2)}\n`);
  return file;
}

export interface LocalEvalOptions {
  exportDir: string;
  /** Data owner input: dataset (with limit) or image; default: the dataset the export names. */
  dataset?: string;
  split?: "train" | "test";
  limit?: number;
  image?: string[];
  batch?: number;
  net?: NetName;
  msb?: MsbChoice;
  /** Truncation of ReLU nets: "fast" (default) or "exact" (logits equal evaluateFixed). */
  truncation?: Truncation;
  /** cbnn MSB only: who opens the masked value, "helper" (default) or "all" (the paper's). */
  cbnnOpen?: CbnnOpen;
  /** Use this parties config (its certificates and ports) instead of throwaway ones. */
  partiesConfig?: string;
  /** Receive timeout for every party (ms); default: the config's or 60 s. */
  timeoutMs?: number;
  /** Called with each party's log lines (stderr of the child). */
  onLog?: (party: PartyId, line: string) => void;
  onProgress?: (done: number, total: number) => void;
  /** Tests: called with the child processes once they are started. */
  onStarted?: (children: ChildProcess[]) => void;
}

/**
 * Checks what would make a party fail at its start, before any process is
 * started (a party failing before it connects would leave the others dialing
 * until their connect timeout): options, the export, image files (decoded to
 * the model's input shape) or the dataset cache and its image shape. Returns
 * the dataset the data owner will read (undefined for --image).
 */
export async function preflightLocalEval(opts: LocalEvalOptions): Promise<DatasetName | undefined> {
  if (opts.msb !== undefined && opts.msb !== "secure" && opts.msb !== "cbnn")
    throw new Error(`msb: unknown MSB protocol "${opts.msb as string}" (expected secure or cbnn)`);
  if (opts.truncation !== undefined && opts.truncation !== "fast" && opts.truncation !== "exact")
    throw new Error(`truncation: unknown "${opts.truncation as string}" (expected fast or exact)`);
  if (opts.cbnnOpen !== undefined) {
    if (opts.cbnnOpen !== "helper" && opts.cbnnOpen !== "all")
      throw new Error(`cbnn open: unknown "${opts.cbnnOpen as string}" (expected helper or all)`);
    if (opts.msb !== "cbnn") throw new Error("--cbnn-open applies to --msb cbnn only");
  }
  if (opts.image !== undefined && opts.limit !== undefined)
    throw new Error("give --image or --limit (a dataset), not both");
  const { model } = await loadExport(opts.exportDir);
  // what the parties would refuse after starting (e.g. a cbnn MSB on too wide inputs), refused here
  checkSecureModel(model, { msb: opts.msb, truncation: opts.truncation, cbnnOpen: opts.cbnnOpen });
  const shape = model.input.shape;
  if (opts.image) {
    if (opts.image.length === 0) throw new Error("--image needs at least one file");
    for (const f of opts.image) await loadImageForModel(f, { shape });
    return undefined;
  }
  const name = datasetForRun(opts.dataset, model.input.dataset, opts.exportDir);
  const ds = await loadDataset(name, opts.split ?? "test", { limit: 1 });
  if (ds.shape.join("x") !== shape.join("x"))
    throw new Error(
      `${opts.exportDir}: model ${model.name} takes ${shape.join("x")} images, dataset ${name} has ${ds.shape.join("x")}`,
    );
  return name;
}

/**
 * The dataset a run classifies: the one given (--dataset), else the one the
 * export names as its training data (model.json input.dataset); an export made
 * from random weights ("random") names none, so it needs --dataset.
 */
export function datasetForRun(
  given: string | undefined,
  exportDataset: string,
  exportDir: string,
): DatasetName {
  if (given !== undefined) {
    if (!isDatasetName(given)) throw new Error(`--dataset: unknown dataset "${given}"`);
    return given;
  }
  if (isDatasetName(exportDataset)) return exportDataset;
  throw new Error(
    `${exportDir}: the export names no known dataset ("${exportDataset}"); give --dataset (mnist or cifar10) or --image`,
  );
}

/** Messages a party child sends its parent over the IPC channel. */
export type PartyIpcMessage =
  | { type: "progress"; done: number; total: number }
  | { type: "report"; report: EvalReport }
  | { type: "error"; message: string };

export function isPartyIpcMessage(m: unknown): m is PartyIpcMessage {
  const t = (m as { type?: unknown })?.type;
  return t === "progress" || t === "report" || t === "error";
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** The party entry point the children run. */
export const PARTY_CLI = resolve(HERE, "../cli/party.ts");

export class LocalEvalError extends Error {
  constructor(
    message: string,
    /** Per party: exit code and the error it reported (if any). */
    readonly parties: { party: PartyId; code: number | null; error: string | null }[],
  ) {
    super(message);
    this.name = "LocalEvalError";
  }
}

/**
 * Runs a secure evaluation as three local processes (`pnpm party` entries,
 * over mutual-TLS WebSockets on loopback): throwaway CA and certificates
 * and free ports unless a parties config is given. Resolves with the data
 * owner's report; rejects with every party's error if any party fails. A
 * party still running `grace` ms after another failed is killed.
 */
export async function runLocalEval(opts: LocalEvalOptions): Promise<EvalReport> {
  const dataset = await preflightLocalEval(opts);
  const tmp = mkdtempSync(join(tmpdir(), "cbnn-secure-eval-"));
  try {
    let configFile: string;
    if (opts.partiesConfig) {
      configFile = resolve(opts.partiesConfig);
      loadPartiesConfig(configFile); // fail early with a clear message
    } else {
      const keys = generateKeys(join(tmp, "keys"));
      configFile = writeLocalConfig(join(tmp, "parties.json"), keys, await freePorts(3));
    }
    const common = ["--config", configFile, "--net", opts.net ?? "none", "--ipc"];
    if (opts.msb) common.push("--msb", opts.msb);
    if (opts.truncation) common.push("--truncation", opts.truncation);
    if (opts.cbnnOpen) common.push("--cbnn-open", opts.cbnnOpen);
    if (opts.timeoutMs !== undefined) common.push("--timeout", String(opts.timeoutMs / 1000));
    const args: string[][] = [
      [...common, "--role", ROLES[0]],
      [...common, "--role", ROLES[1], "--export", resolve(opts.exportDir)],
      [...common, "--role", ROLES[2]],
    ];
    if (opts.image) args[0].push("--image", ...opts.image.map((f) => resolve(f)));
    else if (dataset !== undefined) {
      args[0].push("--dataset", dataset, "--split", opts.split ?? "test");
      if (opts.limit !== undefined) args[0].push("--limit", String(opts.limit));
      if (opts.batch !== undefined) args[0].push("--batch", String(opts.batch));
    }
    const children = args.map((a) =>
      fork(PARTY_CLI, a, {
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      }),
    );
    opts.onStarted?.(children);
    let report: EvalReport | null = null;
    const errors: (string | null)[] = [null, null, null];
    const exits = children.map(
      (c, p) =>
        new Promise<number | null>((res) => {
          const forward = (buf: Buffer) => {
            for (const line of buf.toString().split("\n")) {
              if (line.trim()) opts.onLog?.(p as PartyId, line);
            }
          };
          c.stdout?.on("data", forward);
          c.stderr?.on("data", forward);
          c.on("message", (m) => {
            if (!isPartyIpcMessage(m)) return;
            if (m.type === "progress") opts.onProgress?.(m.done, m.total);
            else if (m.type === "report") report = m.report;
            else errors[p] = m.message;
          });
          c.on("error", (e) => {
            errors[p] ??= e.message;
          });
          c.on("exit", (code, signal) => res(code ?? (signal ? 128 : null)));
        }),
    );
    // When one party fails, the others must stop on their own (that is the
    // point of the ABORT frames and timeouts); kill stragglers after a grace.
    const grace = (opts.timeoutMs ?? 60_000) + 10_000;
    let killer: NodeJS.Timeout | null = null;
    for (const e of exits) {
      void e.then((code) => {
        if (code !== 0 && !killer) {
          killer = setTimeout(() => {
            for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
          }, grace);
        }
      });
    }
    const codes = await Promise.all(exits);
    if (killer) clearTimeout(killer);
    if (codes.every((c) => c === 0) && report) return report;
    const parties = codes.map((code, p) => ({
      party: p as PartyId,
      code,
      error: errors[p],
    }));
    const lines = parties.map(
      (x) =>
        `  ${partyName(x.party)}: exit ${x.code}${x.error ? `: ${x.error}` : x.code === 0 ? " (ok)" : ""}`,
    );
    const why = codes.every((c) => c === 0)
      ? "\n  (every party exited 0 but the data owner sent no report)"
      : "";
    throw new LocalEvalError(`secure evaluation failed:\n${lines.join("\n")}${why}`, parties);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
