import { type Layer, type ModelExport, withOutBounds } from "@cbnn/shared";
import {
  type MsbChoice,
  prepareBatch,
  runBatch,
  type SecureInferenceOptions,
  setupSecureModel,
} from "../layers/runner";
import { b2a } from "../protocols/b2a";
import { bitMul } from "../protocols/bit-mul";
import { shareInput, shareInputB } from "../protocols/input";
import { cbnnMsb } from "../protocols/msb-cbnn";
import { secureMsb } from "../protocols/msb-secure";
import { mulA } from "../protocols/mul";
import { truncate } from "../protocols/truncate";
import { packBits } from "../ring/bits";
import { makeParties, runCosted } from "../testing/harness";
import type { PhaseStats } from "../transport/types";

/**
 * MnistNet1 (784-128-128-10, Sign) with random integer weights and biases in
 * [-32, 32), as an export (weights as int32). With `bounds` (default) the
 * proven `outBoundBits` are recorded (`withOutBounds`, as the exporter does;
 * 22 and 12 bits for the two pre-sign layers), so the MSBs are sized as for a
 * real export; `bounds: false` leaves them out (secure MSB on 31 bits; the
 * cbnn MSB refuses such a model).
 */
export function mnistNet1Random(opts: { bounds?: boolean } = {}): {
  model: ModelExport;
  weights: Int32Array;
} {
  const dims = [784, 128, 128, 10];
  const layers: Layer[] = [];
  let off = 0;
  const parts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const [a, b] = [dims[i], dims[i + 1]];
    const w = { offset: off, length: a * b, shape: [a, b], fracBits: 0 };
    off += a * b;
    const bias = { offset: off, length: b, shape: [b], fracBits: 0 };
    off += b;
    for (let k = 0; k < a * b + b; k++) parts.push(Math.floor(Math.random() * 64) - 32);
    layers.push({
      kind: "dense",
      name: `fc${i + 1}`,
      inShape: i === 0 ? [28, 28, 1] : [1, 1, a],
      outShape: [1, 1, b],
      inDomain: i === 0 ? "int" : "bits",
      outDomain: "int",
      outFracBits: 0,
      weights: w,
      bias,
      outShift: 0,
    });
    if (i < 2)
      layers.push({
        kind: "sign",
        name: `sign${i + 1}`,
        inShape: [1, 1, b],
        outShape: [1, 1, b],
        inDomain: "int",
        outDomain: "bits",
        outFracBits: 0,
      });
  }
  const model = {
    format: "cbnn-export",
    version: 1,
    name: "MnistNet1-random",
    ringBits: 32,
    input: { shape: [28, 28, 1], encoding: "uint8", dataset: "mnist" },
    classes: Array.from({ length: 10 }, (_, i) => String(i)),
    layers,
    blob: { file: "weights.bin", bytes: off * 4, sha256: "" },
    source: {
      checkpoint: "random",
      dataset: "mnist",
      normalisation: { mean: [0], std: [1] },
      createdAt: "",
    },
  } as ModelExport;
  const weights = Int32Array.from(parts);
  return { model: opts.bounds === false ? model : withOutBounds(model, weights), weights };
}

/** Per-party cost of one secure run split into model setup, offline material and online. */
async function costedRun(
  model: ModelExport,
  weights: Int32Array,
  images: Uint8Array,
  count: number,
  opts: SecureInferenceOptions,
): Promise<{ model: PhaseStats; offline: PhaseStats; online: PhaseStats }[]> {
  const { ctxs } = makeParties();
  return Promise.all(
    ctxs.map(async (c) => {
      const sm = await setupSecureModel(c, model, c.id === 1 ? weights : undefined, opts);
      const prep = await prepareBatch(c, sm, count);
      const res = await runBatch(
        c,
        sm,
        { count, images: c.id === 0 ? images : undefined },
        { prep },
      );
      return { model: sm.setup, offline: prep.cost, online: res.online };
    }),
  );
}

/** Bytes sent by P0, P1, P2. */
export type PartyBytes = [number, number, number];

/** One protocol on `n` values: time over repeats, rounds and bytes of the last repeat. */
export interface ProtocolBenchRow {
  protocol: string;
  /** Values processed per call. */
  n: number;
  repeats: number;
  /** Wall time of one call (all three parties in this process), ms. */
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Rounds (causal depth, as counted by the memory transport). */
  rounds: number;
  bytesSent: PartyBytes;
}

/** MnistNet1 at batch 1 with one MSB variant: costs per phase, as counted by the transport. */
export interface MnistNet1CostRow {
  variant: string;
  msb: MsbChoice;
  cbnnOpen?: "helper" | "all";
  /** Whether the model carried the proven outBoundBits. */
  bounds: boolean;
  /** Online rounds (largest over the parties). */
  onlineRounds: number;
  onlineBytes: PartyBytes;
  /** Weight sharing (once per run). */
  modelSetupBytes: PartyBytes;
  /** The batch's offline material (per batch, in proportion to its images). */
  offlineBytes: PartyBytes;
}

export interface ProtocolsBenchResult {
  quick: boolean;
  n: number;
  repeats: number;
  protocols: ProtocolBenchRow[];
  mnistNet1: {
    /** "fc1 22", "fc2 12": the pre-sign layers' proven bounds (bits). */
    outBoundBits: string[];
    rows: MnistNet1CostRow[];
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const partyBytes = (xs: PhaseStats[]): PartyBytes => xs.map((x) => x.bytesSent) as PartyBytes;

/**
 * Per-protocol time, rounds and bytes on n = 10^5 values (10^4 with `quick`;
 * `n` and `repeats` override, for tests): all three parties in this process,
 * memory transport, bytes and rounds as counted by it; the cbnn MSB row
 * includes its preprocessing. Then MnistNet1 at batch 1 with the bounds an
 * exporter records: online rounds and bytes per MSB variant, and the setup
 * split into the model (weights, once per run) and the batch's offline
 * material. Prints nothing: {@link formatProtocolsBench} makes the text.
 */
export async function benchProtocols(opts: {
  quick: boolean;
  n?: number;
  repeats?: number;
}): Promise<ProtocolsBenchResult> {
  const n = opts.n ?? (opts.quick ? 10_000 : 100_000);
  const repeats = opts.repeats ?? (opts.quick ? 3 : 5);
  if (!Number.isInteger(n) || n < 1) throw new Error(`benchProtocols: n must be >= 1, got ${n}`);
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new Error(`benchProtocols: repeats must be >= 1, got ${repeats}`);
  const { ctxs } = makeParties();
  const x = new Uint32Array(n).map(() => (Math.random() * 2 ** 24) | 0);
  const sx = await Promise.all(ctxs.map((c) => shareInput(c, 0, c.id === 0 ? x : null, n)));
  const bits = packBits(Array.from({ length: n }, () => (Math.random() < 0.5 ? 1 : 0)));
  const sb = await Promise.all(ctxs.map((c) => shareInputB(c, 0, c.id === 0 ? bits : null, n)));
  const cb = cbnnMsb(24);
  const cases: [string, (i: number) => Promise<unknown>][] = [
    ["shareInput", (i) => shareInput(ctxs[i], 0, i === 0 ? x : null, n)],
    ["mulA", (i) => mulA(ctxs[i], sx[i], sx[i])],
    ["b2a", (i) => b2a(ctxs[i], sb[i])],
    ["bitMul", (i) => bitMul(ctxs[i], sb[i], sx[i])],
    ["truncate", (i) => truncate(ctxs[i], sx[i], 12)],
    ["msb secure (b = 31)", (i) => secureMsb.extract(ctxs[i], sx[i])],
    ["msb cbnn b=24 (prep+onl.)", (i) => cb.extract(ctxs[i], sx[i])],
  ];
  const protocols: ProtocolBenchRow[] = [];
  for (const [name, f] of cases) {
    const times: number[] = [];
    let last = null;
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      last = await runCosted(ctxs, (c) => f(c.id) as Promise<unknown>);
      times.push(performance.now() - t0);
    }
    protocols.push({
      protocol: name,
      n,
      repeats,
      medianMs: median(times),
      minMs: Math.min(...times),
      maxMs: Math.max(...times),
      rounds: last!.rounds,
      bytesSent: partyBytes(last!.cost),
    });
  }
  const bounded = mnistNet1Random();
  const unbounded = { model: mnistNet1Random({ bounds: false }).model, weights: bounded.weights };
  const outBoundBits = bounded.model.layers.flatMap((l) =>
    "outBoundBits" in l && l.outBoundBits !== undefined ? [`${l.name} ${l.outBoundBits}`] : [],
  );
  const img = new Uint8Array(784).map(() => (Math.random() * 256) | 0);
  const variants: [
    string,
    { model: ModelExport; weights: Int32Array },
    boolean,
    SecureInferenceOptions,
  ][] = [
    ["secure MSB", bounded, true, { msb: "secure" }],
    ["secure MSB, no bounds (b = 31)", unbounded, false, { msb: "secure" }],
    ["cbnn MSB, opened to P2", bounded, true, { msb: "cbnn" }],
    ["cbnn MSB, opened to all", bounded, true, { msb: "cbnn", cbnnOpen: "all" }],
  ];
  const rows: MnistNet1CostRow[] = [];
  for (const [variant, m, bounds, o] of variants) {
    const res = await costedRun(m.model, m.weights, img, 1, o);
    rows.push({
      variant,
      msb: o.msb ?? "secure",
      ...(o.cbnnOpen ? { cbnnOpen: o.cbnnOpen } : {}),
      bounds,
      onlineRounds: Math.max(...res.map((r) => r.online.rounds)),
      onlineBytes: partyBytes(res.map((r) => r.online)),
      modelSetupBytes: partyBytes(res.map((r) => r.model)),
      offlineBytes: partyBytes(res.map((r) => r.offline)),
    });
  }
  return { quick: opts.quick, n, repeats, protocols, mnistNet1: { outBoundBits, rows } };
}

/** The plain-text table of a {@link ProtocolsBenchResult}. */
export function formatProtocolsBench(r: ProtocolsBenchResult): string {
  const lines = [`protocols on ${r.n} values, memory transport, ${r.repeats} repeats`];
  for (const p of r.protocols) {
    lines.push(
      `${p.protocol.padEnd(26)} median ${p.medianMs.toFixed(1)} ms (min ${p.minMs.toFixed(1)}, max ${p.maxMs.toFixed(1)})  rounds ${p.rounds}  bytes sent P0/P1/P2 ${p.bytesSent.join("/")}`,
    );
  }
  lines.push(
    `MnistNet1 (784-128-128-10, Sign; random weights in [-32, 32), proven outBoundBits ${r.mnistNet1.outBoundBits.join(", ")}), batch 1, memory transport; KB = 1000 bytes sent, all parties (P0/P1/P2 bytes)`,
  );
  const kb = (xs: PartyBytes) => `${(xs.reduce((a, b) => a + b, 0) / 1000).toFixed(2)} KB`;
  for (const m of r.mnistNet1.rows) {
    lines.push(
      `  ${m.variant.padEnd(31)} online ${m.onlineRounds} rounds, ${kb(m.onlineBytes)} (${m.onlineBytes.join("/")} B); setup: model ${kb(m.modelSetupBytes)} (once per run), offline ${kb(m.offlineBytes)} (per batch, for its images)`,
    );
  }
  return lines.join("\n");
}
