import { existsSync } from "node:fs";
import { type DatasetName, loadDataset, loadImageForModel, type Split } from "@cbnn/datasets";
import { accuracy, argmaxRows, loadExport, type ModelExport } from "@cbnn/shared";
import { PartyContext } from "../context";
import {
  type MsbChoice,
  prepareBatch,
  runBatch,
  type SecureInferenceOptions,
  setupSecureModel,
  sumPhaseStats,
} from "../layers/runner";
import { setupPrfRandomness } from "../randomness/prf";
import { NET_PROFILES, type NetProfile } from "../transport/shaping";
import type { PartyId, PhaseStats } from "../transport/types";
import { partyName, WsTransport } from "../transport/ws";
import { openPartyLinks, type PartyLinks } from "../transport/ws-link";
import { type PartiesConfig, readTlsMaterial } from "./config";
import { partyCommonName, partyFromCommonName } from "./keys";

/**
 * One party of a secure evaluation, over mutual-TLS WebSockets.
 *
 * Order of work (everything that can fail locally fails before any
 * connection: config, certificates, the export at P1, the dataset or image
 * file at P0, the listening port):
 *  1. "connect": bind, dial, authenticate (see `transport/ws-link.ts`);
 *  2. "hello" (setup phase, 1 round): P1 sends the model's public
 *     architecture (model.json without the blob hash or training source; never
 *     the weights) to P0 and P2; P0 sends the plan (batch sizes, MSB
 *     protocol). P0 checks its input shape against the model.
 *  3. "seed setup": pairwise AES-CTR seeds over the authenticated links;
 *  4. "weight sharing" (setup phase, once per run): `setupSecureModel`, P1
 *     shares all weights and biases;
 *  5. per batch: "offline material" (`prepareBatch`, charged to "setup":
 *     input-independent daBits / cbnn material for this batch's images), then
 *     the batch itself (`runBatch`, "online");
 *  6. "report": P1 and P2 send their counters to P0 (after they were read,
 *     so this message is not in the numbers); orderly close.
 */

export interface DataOwnerInput {
  dataset?: { name: DatasetName; split: Split; limit?: number; cacheDir?: string };
  /** Images given directly (NHWC uint8, `count` of them; tests and benches). */
  raw?: { images: Uint8Array; count: number; labels?: Uint8Array };
  /** Image files instead of a dataset (one prediction each, batch 1). */
  image?: string[];
  /** Images per secure-inference call (default 100; 1 for an image). */
  batch?: number;
}

export interface PartyRunOptions {
  party: PartyId;
  config: PartiesConfig;
  /** Shaping of this party's outgoing frames (default none). */
  net?: NetProfile;
  /** MSB protocol: decided by the data owner; the others check theirs when given. */
  msb?: MsbChoice;
  /** Truncation of ReLU nets ("fast" default, "exact"): decided by the data owner, like `msb`. */
  truncation?: Truncation;
  /** Who opens the cbnn MSB's masked value ("helper" default, "all"): decided by the data owner. */
  cbnnOpen?: CbnnOpen;
  /** Model owner: the export directory. */
  exportDir?: string;
  /** Data owner: what to classify. */
  input?: DataOwnerInput;
  /** Overrides the config's receive timeout (ms). */
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Data owner: images done so far. */
  onProgress?: (done: number, total: number) => void;
}

export type Truncation = NonNullable<SecureInferenceOptions["truncation"]>;
export type CbnnOpen = NonNullable<SecureInferenceOptions["cbnnOpen"]>;

export interface PartyCost {
  party: PartyId;
  name: string;
  /** Everything before the inputs: hello, seeds, model setup and every batch's offline material. */
  setup: PhaseStats;
  online: PhaseStats;
  /** The weight sharing (once per run; independent of the number of batches). */
  modelSetup?: PhaseStats;
  /** The per-batch offline material (daBits, cbnn material), summed over batches. */
  offline?: PhaseStats;
  /** Wall time this party spent in each phase, ms. */
  setupMs: number;
  onlineMs: number;
  /** Wall time making the per-batch offline material (part of setupMs), ms. */
  offlineMs?: number;
  /** Connections from strangers refused during the run. */
  refused: number;
}

export interface EvalReport {
  model: string;
  msb: MsbChoice;
  /** Truncation of ReLU nets (no effect on Sign nets). */
  truncation?: Truncation;
  /** Who opened the cbnn MSB's masked value (msb "cbnn" only). */
  cbnnOpen?: CbnnOpen;
  net: string;
  /** One-way latency and bandwidth the links were shaped to. */
  latencyMs: number;
  bandwidthMBps: number;
  count: number;
  batch: number;
  batches: number;
  predictions: number[];
  labels: number[] | null;
  /** Fraction correct (null for an image). */
  accuracy: number | null;
  /** Class name per image (image mode). */
  predictedClasses: string[] | null;
  /** The image files (image mode). */
  imageFiles: string[] | null;
  /** Logits of all images (int32, the last layer's fracBits), count x classes. */
  logits: number[];
  classes: string[];
  /** Wall time at P0 from the first batch to the last logits, ms. */
  totalMs: number;
  /** P0's online wall time per image, ms. */
  onlineMsPerImage: number;
  /** Rounds at P0 (causal depth), summed over batches. */
  onlineRounds: number;
  setupRounds: number;
  /** Online rounds of one batch (all batches have the same count). */
  onlineRoundsPerBatch: number;
  /**
   * P0's clock advance (rounds) during the first batch's offline step: the
   * rounds of offline material P0 waits for inside each batch's wall time.
   */
  offlineRoundsPerBatch?: number;
  /** P0's wall time of each batch's offline step (`prepareBatch`), ms, in batch order. */
  batchOfflineMs?: number[];
  /** P0's wall time of each batch's online step (`runBatch`), ms, in batch order. */
  batchOnlineMs?: number[];
  parties: [PartyCost, PartyCost, PartyCost];
}

export type PartyResult =
  | { kind: "report"; report: EvalReport }
  | { kind: "cost"; cost: PartyCost };

interface Plan {
  counts: number[];
  msb: MsbChoice;
  truncation: Truncation;
  cbnnOpen: CbnnOpen;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function sendJson(t: WsTransport, peer: PartyId, value: unknown): void {
  t.send(peer, enc.encode(JSON.stringify(value)));
}

async function recvJson(t: WsTransport, peer: PartyId, what: string): Promise<unknown> {
  const bytes = await t.receive(peer);
  try {
    return JSON.parse(dec.decode(bytes));
  } catch {
    throw t.fail(`malformed ${what} from ${partyName(peer)} (not JSON)`, peer);
  }
}

/** The public part of an export: what P0 and P2 must know to run the protocol. */
export function publicArchitecture(model: ModelExport): ModelExport {
  return {
    ...model,
    blob: { file: model.blob.file, bytes: model.blob.bytes, sha256: "" },
    source: {
      checkpoint: "",
      dataset: model.source.dataset,
      normalisation: { mean: [], std: [] },
      createdAt: "",
    },
  };
}

function checkArchitecture(m: unknown, t: WsTransport): ModelExport {
  const ok =
    typeof m === "object" &&
    m !== null &&
    Array.isArray((m as ModelExport).layers) &&
    Array.isArray((m as ModelExport).classes) &&
    typeof (m as ModelExport).input === "object";
  if (!ok) throw t.fail("malformed model architecture from P1 (model owner)", 1);
  return m as ModelExport;
}

function splitBatches(count: number, batch: number): number[] {
  const out: number[] = [];
  for (let done = 0; done < count; done += batch) out.push(Math.min(batch, count - done));
  return out;
}

/** Runs one party to the end. P0 returns the evaluation report, the others their cost. */
export async function runParty(opts: PartyRunOptions): Promise<PartyResult> {
  const me = opts.party;
  const cfg = opts.config;
  const log = opts.log ?? (() => {});
  const net = opts.net ?? NET_PROFILES.none;
  const name = partyName(me);

  // ---- local checks, before any connection ----
  if (opts.msb !== undefined && opts.msb !== "secure" && opts.msb !== "cbnn")
    throw new Error(`${name}: unknown --msb "${opts.msb as string}" (expected secure or cbnn)`);
  if (opts.truncation !== undefined && opts.truncation !== "fast" && opts.truncation !== "exact")
    throw new Error(
      `${name}: unknown --truncation "${opts.truncation as string}" (expected fast or exact)`,
    );
  if (opts.cbnnOpen !== undefined && opts.cbnnOpen !== "helper" && opts.cbnnOpen !== "all")
    throw new Error(
      `${name}: unknown --cbnn-open "${opts.cbnnOpen as string}" (expected helper or all)`,
    );
  if (me === 0 && opts.cbnnOpen !== undefined && opts.msb !== "cbnn")
    throw new Error(`${name}: --cbnn-open applies to --msb cbnn only`);
  const tls = readTlsMaterial(cfg, me);
  let exported: { model: ModelExport; weights: Int32Array } | null = null;
  let images: Uint8Array | null = null;
  let labels: Uint8Array | null = null;
  let count = 0;
  const input = opts.input;
  if (me === 1) {
    if (!opts.exportDir) throw new Error(`${name}: --export <dir> is required for the model owner`);
    exported = await loadExport(opts.exportDir);
  }
  if (me === 0) {
    const given = [input?.dataset, input?.image, input?.raw].filter((x) => x !== undefined);
    if (!input || given.length === 0) {
      throw new Error(`${name}: the data owner needs --dataset or --image`);
    }
    if (given.length > 1) throw new Error(`${name}: give --dataset or --image, not both`);
    if (input.raw) {
      if (!Number.isInteger(input.raw.count) || input.raw.count < 1) {
        throw new Error(`${name}: raw input needs a positive image count`);
      }
      images = input.raw.images;
      labels = input.raw.labels ?? null;
      count = input.raw.count;
    } else if (input.image) {
      if (input.image.length === 0) throw new Error(`${name}: --image needs at least one file`);
      for (const f of input.image)
        if (!existsSync(f)) throw new Error(`${f}: image file not found`);
      count = input.image.length;
    } else {
      const ds = await loadDataset(input.dataset!.name, input.dataset!.split, {
        limit: input.dataset!.limit,
        cacheDir: input.dataset!.cacheDir,
      });
      if (ds.count === 0) throw new Error(`${name}: dataset ${ds.name} ${ds.split} has no images`);
      images = ds.images;
      labels = ds.labels;
      count = ds.count;
    }
  }
  const batch = input?.image ? 1 : (input?.batch ?? 100);
  if (me === 0 && (!Number.isInteger(batch) || batch < 1)) {
    throw new Error(`${name}: --batch must be a positive integer, got ${batch}`);
  }

  // ---- connect ----
  const listener = await openPartyLinks({
    party: me,
    endpoints: cfg.parties,
    tls,
    identify: partyFromCommonName,
    commonName: partyCommonName,
    connectTimeoutMs: cfg.connectTimeoutMs,
    maxFrameBytes: cfg.maxFrameBytes,
    log,
  });
  log(
    `${name}: listening${listener.port ? ` on port ${listener.port}` : " (dial only)"}, connecting`,
  );
  const links: PartyLinks = await listener.links;
  const t = new WsTransport({
    party: me,
    sockets: links.sockets,
    profile: net,
    timeoutMs: opts.timeoutMs ?? cfg.timeoutMs,
    maxFrameBytes: cfg.maxFrameBytes,
  });
  log(
    `${name}: all links up (${net.name}: ${Number.isFinite(net.bytesPerSec) ? `${net.latencyMs} ms one-way, ${net.bytesPerSec / 1e6} MB/s` : "no shaping"})`,
  );
  try {
    const result = await runSession(t, me, {
      exported,
      images,
      labels,
      count,
      batch,
      image: input?.image ?? null,
      msb: opts.msb,
      truncation: opts.truncation,
      cbnnOpen: opts.cbnnOpen,
      net,
      onProgress: opts.onProgress,
      refused: () => links.refused,
    });
    await t.close();
    return result;
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    // A local error (not a link failure) is sent to the peers so they stop too.
    throw t.failed ?? t.abort(err.message);
  } finally {
    await links.close();
  }
}

interface SessionState {
  exported: { model: ModelExport; weights: Int32Array } | null;
  images: Uint8Array | null;
  labels: Uint8Array | null;
  count: number;
  batch: number;
  image: string[] | null;
  msb?: MsbChoice;
  truncation?: Truncation;
  cbnnOpen?: CbnnOpen;
  net: NetProfile;
  onProgress?: (done: number, total: number) => void;
  refused: () => number;
}

async function runSession(t: WsTransport, me: PartyId, s: SessionState): Promise<PartyResult> {
  const name = partyName(me);
  t.setPhase("setup");
  // ---- hello: architecture from P1, plan from P0 ----
  t.step = "hello";
  let model: ModelExport;
  let plan: Plan;
  if (me === 1) {
    const arch = publicArchitecture(s.exported!.model);
    sendJson(t, 0, arch);
    sendJson(t, 2, arch);
    model = s.exported!.model;
  }
  if (me === 0) {
    plan = {
      counts: splitBatches(s.count, s.batch),
      msb: s.msb ?? "secure",
      truncation: s.truncation ?? "fast",
      cbnnOpen: s.cbnnOpen ?? "helper",
    };
    sendJson(t, 1, plan);
    sendJson(t, 2, plan);
  }
  if (me !== 1) model = checkArchitecture(await recvJson(t, 1, "model architecture"), t);
  if (me !== 0) {
    const p = (await recvJson(t, 0, "plan")) as Plan;
    if (
      !Array.isArray(p?.counts) ||
      !p.counts.every((c) => Number.isInteger(c) && c > 0) ||
      (p.msb !== "secure" && p.msb !== "cbnn") ||
      (p.truncation !== "fast" && p.truncation !== "exact") ||
      (p.cbnnOpen !== "helper" && p.cbnnOpen !== "all")
    ) {
      throw t.fail("malformed plan from P0 (data owner)", 0);
    }
    const agree = [
      ["--msb", s.msb, p.msb],
      ["--truncation", s.truncation, p.truncation],
      ["--cbnn-open", s.cbnnOpen, p.cbnnOpen],
    ] as const;
    for (const [flag, mine, theirs] of agree) {
      if (mine !== undefined && mine !== theirs) {
        throw new Error(
          `${name}: ${flag} ${mine} given here but the data owner runs ${flag} ${theirs}; the parties must agree`,
        );
      }
    }
    plan = p;
  }
  model = model!;
  plan = plan!;

  // Data owner: check / load its input against the model's input shape.
  let images = s.images;
  if (me === 0) {
    const shape = model.input.shape;
    if (s.image) {
      const per = shape[0] * shape[1] * shape[2];
      images = new Uint8Array(per * s.image.length);
      for (let k = 0; k < s.image.length; k++) {
        images.set(await loadImageForModel(s.image[k], { shape }), k * per);
      }
    } else {
      const per = shape[0] * shape[1] * shape[2];
      if (images!.length !== per * s.count) {
        throw new Error(
          `${name}: the dataset's images (${images!.length / s.count} values each) do not fit the model's input ${shape.join("x")} (${model.name})`,
        );
      }
    }
  }

  // ---- pairwise PRF seeds over the authenticated links ----
  t.step = "seed setup";
  const rand = await setupPrfRandomness(t);
  const ctx = new PartyContext(me, t, rand);

  // ---- model setup, once: P1 shares the weights ----
  t.step = "weight sharing";
  const sm = await setupSecureModel(ctx, model, me === 1 ? s.exported!.weights : undefined, {
    msb: plan.msb,
    truncation: plan.truncation,
    cbnnOpen: plan.cbnnOpen,
  });
  let offline: PhaseStats | null = null;
  let offlineMs = 0;

  // ---- batches ----
  const total = plan.counts.reduce((a, b) => a + b, 0);
  const classes = model.classes.length;
  const logits = me === 0 ? new Int32Array(total * classes) : null;
  let done = 0;
  let onlineRoundsPerBatch = 0;
  let offlineRoundsPerBatch = 0;
  const batchOfflineMs: number[] = [];
  const batchOnlineMs: number[] = [];
  const t0 = performance.now();
  for (let b = 0; b < plan.counts.length; b++) {
    const n = plan.counts[b];
    const where = `batch ${b + 1}/${plan.counts.length}`;
    t.step = `${where}, offline material`;
    const p0 = performance.now();
    const clock0 = t.stats().clock;
    const prep = await prepareBatch(ctx, sm, n);
    const p1 = performance.now();
    offlineMs += p1 - p0;
    batchOfflineMs.push(p1 - p0);
    if (b === 0) offlineRoundsPerBatch = t.stats().clock - clock0;
    offline = offline ? sumPhaseStats(offline, prep.cost) : prep.cost;
    t.step = `${where}, layer 1 ${model.layers[0].name} (${model.layers[0].kind})`;
    const before = t.stats().online.rounds;
    const res = await runBatch(
      ctx,
      sm,
      {
        count: n,
        images:
          me === 0
            ? images!.subarray(
                done * (images!.length / total),
                (done + n) * (images!.length / total),
              )
            : undefined,
      },
      {
        prep,
        onLayer: (i) => {
          const next = model.layers[i + 1];
          t.step = next
            ? `${where}, layer ${i + 2} ${next.name} (${next.kind})`
            : `${where}, output`;
        },
      },
    );
    batchOnlineMs.push(performance.now() - p1);
    if (b === 0) onlineRoundsPerBatch = t.stats().online.rounds - before;
    if (me === 0) {
      if (!res.logits || res.logits.length !== n * classes) {
        throw new Error(`${name}: ${where}: expected ${n * classes} logits`);
      }
      logits!.set(res.logits, done * classes);
    }
    done += n;
    if (me === 0) s.onProgress?.(done, total);
  }
  const totalMs = performance.now() - t0;

  // ---- report ----
  const stats = t.stats();
  const ms = t.phaseMs();
  const cost: PartyCost = {
    party: me,
    name,
    setup: stats.setup,
    online: stats.online,
    modelSetup: sm.setup,
    offline: offline ?? undefined,
    setupMs: ms.setup,
    onlineMs: ms.online,
    offlineMs,
    refused: s.refused(),
  };
  t.step = "report";
  if (me !== 0) {
    sendJson(t, 0, cost);
    return { kind: "cost", cost };
  }
  const costs = [cost, null, null] as (PartyCost | null)[];
  for (const p of [1, 2] as const) {
    const c = (await recvJson(t, p, "cost report")) as PartyCost;
    if (typeof c?.setup?.bytesSent !== "number" || typeof c?.online?.bytesSent !== "number") {
      throw t.fail(`malformed cost report from ${partyName(p)}`, p);
    }
    costs[p] = c;
  }
  const predictions = Array.from(argmaxRows(logits!, classes));
  const labelList = s.labels ? Array.from(s.labels.subarray(0, total)) : null;
  return {
    kind: "report",
    report: {
      model: model.name,
      msb: plan.msb,
      truncation: plan.truncation,
      cbnnOpen: plan.msb === "cbnn" ? plan.cbnnOpen : undefined,
      net: s.net.name,
      latencyMs: s.net.latencyMs,
      bandwidthMBps: s.net.bytesPerSec / 1e6,
      count: total,
      batch: s.batch,
      batches: plan.counts.length,
      predictions,
      labels: labelList,
      accuracy: labelList ? accuracy(predictions, labelList) : null,
      predictedClasses: s.image ? predictions.map((p) => model.classes[p] ?? String(p)) : null,
      imageFiles: s.image,
      logits: Array.from(logits!),
      classes: model.classes,
      totalMs,
      onlineMsPerImage: cost.onlineMs / total,
      onlineRounds: stats.online.rounds,
      setupRounds: stats.setup.rounds,
      onlineRoundsPerBatch,
      offlineRoundsPerBatch,
      batchOfflineMs,
      batchOnlineMs,
      parties: costs as [PartyCost, PartyCost, PartyCost],
    },
  };
}
