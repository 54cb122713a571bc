import {
  boundBits,
  checkOutBounds,
  type Layer,
  type LinearLayer,
  type ModelExport,
} from "@cbnn/shared";
import { DATA_OWNER, MODEL_OWNER, type PartyContext } from "../context";
import { relu, signBits, signBits3 } from "../protocols/activation";
import { b2a } from "../protocols/b2a";
import { b2aDaBits, type DaBits, makeDaBits } from "../protocols/dabit";
import { shareInput } from "../protocols/input";
import { type BilinearOp, linear, linearShares } from "../protocols/linear";
import { maxpoolMax, maxpoolOr, maxpoolSumSign, type PoolGeometry } from "../protocols/maxpool";
import type { MsbPrep, MsbProtocol } from "../protocols/msb";
import { CBNN_MAX_INPUT_BITS, cbnnMsb } from "../protocols/msb-cbnn";
import { secureMsbFor } from "../protocols/msb-secure";
import { reshareA } from "../protocols/reshare";
import { revealTo } from "../protocols/reveal";
import { truncate, truncateExact } from "../protocols/truncate";
import { conv2dU32, depthwise2dU32, pointwiseU32 } from "../ring/conv";
import { matmulU32 } from "../ring/gemm";
import { type AShare, aSlice } from "../sharing/arith";
import type { BShare } from "../sharing/bool";
import type { PhaseStats } from "../transport/types";

export type MsbChoice = "secure" | "cbnn";

export interface SecureInferenceOptions {
  /** MSB protocol: "secure" (default) or the paper's leaky "cbnn" (opt-in). */
  msb?: MsbChoice;
  /**
   * Input bound (bits of |x|) for the cbnn MSB where the export records no
   * proven bound (`outBoundBits` of the layer before a sign/relu): an
   * unchecked promise by the caller. Without it such layers are refused under
   * cbnn. Where the export has a bound, that bound is used.
   */
  cbnnInputBits?: number;
  /**
   * Who opens the cbnn MSB's masked value: "helper" (default: P2 only, 2
   * rounds, fewer bytes, leakage to P2 only) or "all" (the paper's: 1 round,
   * 3x the bytes, every party learns |u|). See docs/protocols.md.
   */
  cbnnOpen?: "helper" | "all";
  /** Override for maxpool over bits: "or" (boolean OR, default from the export) or "sum-sign". */
  maxpool?: "or" | "sum-sign";
  /**
   * Truncation after a linear layer with outShift: "fast" (default, 1 round,
   * may be 1 LSB below the reference's floor) or "exact" (adds the dropped
   * carry with the secure adder on outShift bits: equals the reference bit
   * for bit; see truncateExact in protocols/truncate.ts for the cost).
   */
  truncation?: "fast" | "exact";
  /** Called after each layer (progress). */
  onLayer?: (index: number, layer: Layer) => void;
}

export interface SecureInferenceInputs {
  /** The export's weights.bin as int32: at the model owner (P1) only. */
  weights?: Int32Array;
  /** NHWC uint8 images: at the data owner (P0) only. */
  images?: Uint8Array;
  /** Number of images (known to all parties). */
  count: number;
}

export interface SecureInferenceResult {
  /** count x classes logits (int32, the last layer's outFracBits): at P0 only. */
  logits: Int32Array | null;
  /**
   * This party's transport cost of the setup phase of this call: model setup
   * (weights, once per {@link setupSecureModel}) plus this batch's offline
   * material ({@link prepareBatch}); `runBatch` alone reports the offline part.
   */
  setup: PhaseStats;
  /** This party's transport cost of the online phase of this call. */
  online: PhaseStats;
  /** The offline (input-independent, per-batch) part of `setup`. */
  offline?: PhaseStats;
}

/** Share type of a tensor between layers. */
type Tensor =
  | { kind: "A"; x: AShare }
  | { kind: "B"; x: BShare; arith?: AShare }
  /** A linear layer's output as a 3-of-3 sharing (this party's component), before its reshare. */
  | { kind: "Z"; z: Uint32Array };

function size(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

function isLinear(l: Layer): l is LinearLayer {
  return (
    l.kind === "dense" ||
    l.kind === "conv2d" ||
    l.kind === "depthwise2d" ||
    l.kind === "pointwise2d"
  );
}

/** The public bilinear map of a linear layer for `count` images. */
export function linearOp(l: LinearLayer, count: number): BilinearOp {
  switch (l.kind) {
    case "dense": {
      const inF = size(l.inShape);
      const outF = size(l.outShape);
      return (x, w) => matmulU32(x, w, count, inF, outF);
    }
    case "conv2d":
      return (x, w) =>
        conv2dU32(x, count, l.inShape, w, l.kernel, l.outShape[2], l.strides, l.padding);
    case "depthwise2d":
      return (x, w) => depthwise2dU32(x, count, l.inShape, w, l.kernel, l.strides, l.padding);
    case "pointwise2d":
      return (x, w) => pointwiseU32(x, count, l.inShape, w, l.outShape[2]);
  }
}

function msbChoice(opts: SecureInferenceOptions): MsbChoice {
  const choice = opts.msb ?? "secure";
  if (choice !== "secure" && choice !== "cbnn")
    throw new Error(`unknown MSB protocol "${choice as string}" (expected secure or cbnn)`);
  return choice;
}

/**
 * Proven input bound (bits) of the MSB a layer needs, from the export:
 * sign/relu after a linear layer with `outBoundBits`; sum-sign maxpool from
 * its window size. undefined where nothing is proven.
 */
function provenBound(
  model: ModelExport,
  li: number,
  opts: SecureInferenceOptions,
): number | undefined {
  const l = model.layers[li];
  if (l.kind === "sign" || l.kind === "relu") {
    const prev = li > 0 ? model.layers[li - 1] : undefined;
    return prev && isLinear(prev) ? prev.outBoundBits : undefined;
  }
  if (l.kind === "maxpool" && poolMode(l, opts) === "sum-sign") {
    // sum(window) - 1 lies in [-1, K - 1]
    return boundBits(l.pool[0] * l.pool[1]);
  }
  return undefined;
}

/** The MSB protocol for layer li, sized by the export's proven bound. */
function msbFor(model: ModelExport, li: number, opts: SecureInferenceOptions): MsbProtocol {
  const l = model.layers[li];
  const proven = provenBound(model, li, opts);
  if (msbChoice(opts) === "secure") {
    // maxpool max compares differences of two values: no bound
    return secureMsbFor(l.kind === "maxpool" && l.mode === "max" ? 31 : (proven ?? 31));
  }
  let bits = proven;
  let from = `layer ${model.layers[li - 1]?.name ?? "?"}: outBoundBits`;
  if (bits === undefined) {
    if (opts.cbnnInputBits === undefined) {
      throw new Error(
        `layer ${l.name}: the cbnn MSB needs a proven input bound and the export records none (outBoundBits is only known for layers reading pixels or bits); use --msb secure, or pass cbnnInputBits if you can guarantee one`,
      );
    }
    bits = opts.cbnnInputBits + (l.kind === "maxpool" ? 1 : 0);
    from = "cbnnInputBits";
  }
  if (bits > CBNN_MAX_INPUT_BITS) {
    throw new Error(
      `layer ${l.name}: ${from} = ${bits} is too large for a correct cbnn MSB (at most ${CBNN_MAX_INPUT_BITS} bits): re-export with presignBits <= ${CBNN_MAX_INPUT_BITS} (pnpm export --presign-bits), or use --msb secure`,
    );
  }
  return cbnnMsb(bits, { openTo: opts.cbnnOpen });
}

function poolMode(
  l: Layer & { kind: "maxpool" },
  opts: SecureInferenceOptions,
): "or" | "sum-sign" | "max" {
  if (l.inDomain === "bits") return opts.maxpool ?? (l.mode === "max" ? "or" : l.mode);
  if (l.mode !== "max")
    throw new Error(`layer ${l.name}: maxpool mode "${l.mode}" needs bits input`);
  return "max";
}

/** Number of MSB inputs a layer needs per image, for preprocessing (0 = none or not prepared). */
function msbCount(l: Layer, opts: SecureInferenceOptions): number {
  if (l.kind === "sign" || l.kind === "relu") return size(l.inShape);
  if (l.kind === "maxpool" && poolMode(l, opts) === "sum-sign") return size(l.outShape);
  return 0;
}

async function toArith(ctx: PartyContext, t: Tensor): Promise<AShare> {
  if (t.kind === "A") return t.x;
  if (t.kind === "Z") return reshareA(ctx, t.z);
  return t.arith ?? b2a(ctx, t.x);
}

function phaseDelta(a: PhaseStats, b: PhaseStats): PhaseStats {
  const links = [0, 1, 2].map((i) => ({
    bytesSent: b.links[i].bytesSent - a.links[i].bytesSent,
    bytesReceived: b.links[i].bytesReceived - a.links[i].bytesReceived,
    messagesSent: b.links[i].messagesSent - a.links[i].messagesSent,
    messagesReceived: b.links[i].messagesReceived - a.links[i].messagesReceived,
  })) as PhaseStats["links"];
  return {
    links,
    rounds: b.rounds - a.rounds,
    bytesSent: b.bytesSent - a.bytesSent,
    bytesReceived: b.bytesReceived - a.bytesReceived,
    messagesSent: b.messagesSent - a.messagesSent,
    messagesReceived: b.messagesReceived - a.messagesReceived,
  };
}

/** Component-wise sum of two phases' statistics. */
export function sumPhaseStats(a: PhaseStats, b: PhaseStats): PhaseStats {
  const links = [0, 1, 2].map((i) => ({
    bytesSent: a.links[i].bytesSent + b.links[i].bytesSent,
    bytesReceived: a.links[i].bytesReceived + b.links[i].bytesReceived,
    messagesSent: a.links[i].messagesSent + b.links[i].messagesSent,
    messagesReceived: a.links[i].messagesReceived + b.links[i].messagesReceived,
  })) as PhaseStats["links"];
  return {
    links,
    rounds: a.rounds + b.rounds,
    bytesSent: a.bytesSent + b.bytesSent,
    bytesReceived: a.bytesReceived + b.bytesReceived,
    messagesSent: a.messagesSent + b.messagesSent,
    messagesReceived: a.messagesReceived + b.messagesReceived,
  };
}

function checkOptions(opts: SecureInferenceOptions): void {
  msbChoice(opts);
  if (opts.truncation !== undefined && opts.truncation !== "fast" && opts.truncation !== "exact")
    throw new Error(`unknown truncation "${opts.truncation as string}" (expected fast or exact)`);
  if (opts.cbnnOpen !== undefined && opts.cbnnOpen !== "helper" && opts.cbnnOpen !== "all")
    throw new Error(`unknown cbnn open "${opts.cbnnOpen as string}" (expected helper or all)`);
  if (opts.maxpool !== undefined && opts.maxpool !== "or" && opts.maxpool !== "sum-sign")
    throw new Error(`unknown maxpool "${opts.maxpool as string}" (expected or or sum-sign)`);
}

/**
 * A model shared among the three parties: the result of the setup step
 * ({@link setupSecureModel}), reused by every batch ({@link runBatch}).
 * Holds this party's replicated shares of all weights and biases and the
 * MSB protocol chosen per layer. Belongs to one party (`party`).
 */
export interface SecureModel {
  readonly party: PartyContext["id"];
  readonly model: ModelExport;
  readonly opts: Readonly<SecureInferenceOptions>;
  /** This party's transport cost of the model setup (weight sharing). */
  readonly setup: PhaseStats;
  /** Per layer: the MSB protocol it uses (sign, relu, sum-sign / max maxpool), else undefined. */
  readonly msbs: readonly (MsbProtocol | undefined)[];
  /** Per linear layer: this party's shares of its weights and bias. */
  readonly params: ReadonlyMap<LinearLayer, { w: AShare; b: AShare }>;
}

/**
 * Input-independent material of one batch of `count` images, made in the
 * setup phase (offline) before the batch: daBits for bit tensors that reach a
 * linear layer without a ring form, the MSB preprocessing (cbnn material;
 * secure-MSB daBits where a sign feeds a linear layer) and, for exact
 * truncation, the carry adder's daBits. Used once (fresh randomness).
 */
export interface BatchPrep {
  readonly party: PartyContext["id"];
  readonly count: number;
  /** This party's transport cost of making it (setup phase). */
  readonly cost: PhaseStats;
  readonly msb: ReadonlyMap<Layer, MsbPrep>;
  readonly b2a: ReadonlyMap<Layer, DaBits>;
  readonly trunc: ReadonlyMap<Layer, MsbPrep>;
  used: boolean;
}

/**
 * Validates the model and options and picks the MSB protocol of each layer that
 * needs one (undefined elsewhere); throws what setupSecureModel would refuse.
 */
function msbPlan(model: ModelExport, opts: SecureInferenceOptions): (MsbProtocol | undefined)[] {
  if (model.layers.length === 0) throw new Error(`model ${model.name}: no layers`);
  checkOptions(opts);
  return model.layers.map((l, li) =>
    msbCount(l, opts) > 0 || (l.kind === "maxpool" && poolMode(l, opts) === "max")
      ? msbFor(model, li, opts)
      : undefined,
  );
}

/**
 * Checks, without any party, that `model` can run under `opts`: the options
 * are valid and every MSB it needs can be built (the cbnn MSB refuses inputs
 * wider than it is correct for). Throws the error setupSecureModel would throw,
 * so that a launcher can fail before it starts the parties.
 */
export function checkSecureModel(model: ModelExport, opts: SecureInferenceOptions = {}): void {
  msbPlan(model, opts);
}

/**
 * Setup step, once per run: the model owner checks the export's proven
 * bounds against its weights and shares all weights and biases (one message
 * to one party, 1 round, one ring element per parameter; charged to the
 * "setup" phase). The other parties pass `weights` undefined. All three call
 * it concurrently with the same model and options.
 */
export async function setupSecureModel(
  ctx: PartyContext,
  model: ModelExport,
  weights: Int32Array | undefined,
  opts: SecureInferenceOptions = {},
): Promise<SecureModel> {
  const msbs = msbPlan(model, opts);
  const t = ctx.transport;
  t.setPhase("setup");
  const start = t.stats();
  const linears = model.layers.filter(isLinear);
  let total = 0;
  for (const l of linears) total += l.weights.length + l.bias.length;
  let params: Uint32Array | null = null;
  if (ctx.id === MODEL_OWNER) {
    const w = weights;
    if (!w) throw new Error(`party ${ctx.id} (model owner): weights are required`);
    // the MSBs are sized by the recorded bounds: the model owner proves them on its weights
    checkOutBounds(model, w, "model");
    params = new Uint32Array(total);
    let o = 0;
    for (const l of linears) {
      for (const [what, ref] of [
        ["weights", l.weights],
        ["bias", l.bias],
      ] as const) {
        if (ref.offset + ref.length > w.length) {
          throw new Error(
            `layer ${l.name}: ${what} [${ref.offset}, +${ref.length}) outside weights (${w.length} values)`,
          );
        }
        params.set(new Uint32Array(w.buffer, w.byteOffset + 4 * ref.offset, ref.length), o);
        o += ref.length;
      }
    }
  }
  const shared = await shareInput(ctx, MODEL_OWNER, params, total);
  const layerParams = new Map<LinearLayer, { w: AShare; b: AShare }>();
  let o = 0;
  for (const l of linears) {
    const w = aSlice(shared, o, l.weights.length);
    o += l.weights.length;
    const b = aSlice(shared, o, l.bias.length);
    o += l.bias.length;
    layerParams.set(l, { w, b });
  }
  return {
    party: ctx.id,
    model,
    opts: { ...opts },
    setup: phaseDelta(start.setup, t.stats().setup),
    msbs,
    params: layerParams,
  };
}

/**
 * Offline step, once per batch of `count` images (see {@link BatchPrep}):
 * charged to the "setup" phase. Rounds: up to 2 (cbnn material), 1 for daBits,
 * 0 when the model needs none (e.g. a Sign net whose signs all feed OR
 * maxpools that feed nothing linear).
 */
export async function prepareBatch(
  ctx: PartyContext,
  sm: SecureModel,
  count: number,
): Promise<BatchPrep> {
  if (sm.party !== ctx.id)
    throw new Error(`party ${ctx.id}: the shared model belongs to party ${sm.party}`);
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`secure inference: count must be a positive integer, got ${count}`);
  const { model, opts, msbs } = sm;
  const t = ctx.transport;
  t.setPhase("setup");
  const start = t.stats();
  const preps = new Map<Layer, MsbPrep>();
  const b2aPreps = new Map<Layer, DaBits>();
  const truncPreps = new Map<Layer, MsbPrep>();
  // which tensors reach a linear layer as bits without a ring form (-> daBits b2a)
  let bitsOnly = false;
  for (let li = 0; li < model.layers.length; li++) {
    const l = model.layers[li];
    if (isLinear(l) && bitsOnly) b2aPreps.set(l, await makeDaBits(ctx, size(l.inShape) * count));
    if (isLinear(l) && l.outShift > 0 && opts.truncation === "exact") {
      const n = size(l.outShape) * count;
      truncPreps.set(l, await secureMsbFor(l.outShift).prepare(ctx, n, { arith: true }));
    }
    const m = msbCount(l, opts) * count;
    const p = msbs[li];
    const next = model.layers[li + 1];
    const wantArith =
      l.kind === "sign" &&
      next !== undefined &&
      !(next.kind === "maxpool" && poolMode(next, opts) === "or");
    if (m > 0 && p && (p.name === "cbnn" || wantArith))
      preps.set(l, await p.prepare(ctx, m, { arith: wantArith }));
    if (isLinear(l) || l.kind === "relu") bitsOnly = false;
    else if (l.kind === "sign") bitsOnly = !(p?.name === "cbnn" || wantArith);
    else if (l.kind === "maxpool") bitsOnly = poolMode(l, opts) !== "max";
  }
  return {
    party: ctx.id,
    count,
    cost: phaseDelta(start.setup, t.stats().setup),
    msb: preps,
    b2a: b2aPreps,
    trunc: truncPreps,
    used: false,
  };
}

export interface RunBatchOptions {
  /** This batch's offline material from {@link prepareBatch}; made here (setup phase) when absent. */
  prep?: BatchPrep;
  /** Progress per layer; overrides the model's `opts.onLayer` for this batch. */
  onLayer?: (index: number, layer: Layer) => void;
}

/**
 * Online step, once per batch: the data owner shares the raw pixels, the
 * layers run on shares (each tensor tracked as arithmetic, boolean or 3-of-3
 * shares), and the logits are revealed to the data owner only. The weights
 * come from `sm` (shared once at setup). `result.setup` and `result.offline`
 * are this batch's offline cost (zero when `prep` was made beforehand).
 */
export async function runBatch(
  ctx: PartyContext,
  sm: SecureModel,
  inputs: Omit<SecureInferenceInputs, "weights">,
  runOpts: RunBatchOptions = {},
): Promise<SecureInferenceResult> {
  const { count } = inputs;
  if (sm.party !== ctx.id)
    throw new Error(`party ${ctx.id}: the shared model belongs to party ${sm.party}`);
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`secure inference: count must be a positive integer, got ${count}`);
  const { model, opts, msbs } = sm;
  const t = ctx.transport;
  const before = t.stats();
  let prep = runOpts.prep;
  if (prep) {
    if (prep.party !== ctx.id)
      throw new Error(`party ${ctx.id}: batch material belongs to party ${prep.party}`);
    if (prep.count !== count)
      throw new Error(`batch material for ${prep.count} images, batch has ${count}`);
    if (prep.used) throw new Error("batch material used twice (its randomness must be fresh)");
  } else {
    prep = await prepareBatch(ctx, sm, count);
  }
  prep.used = true;
  const offline = phaseDelta(before.setup, t.stats().setup);
  const onLayer = runOpts.onLayer ?? opts.onLayer;

  t.setPhase("online");
  const start = t.stats();
  const inSize = size(model.input.shape) * count;
  let pixels: Uint32Array | null = null;
  if (ctx.id === DATA_OWNER) {
    const img = inputs.images;
    if (!img) throw new Error(`party ${ctx.id} (data owner): images are required`);
    if (img.length !== inSize)
      throw new Error(
        `images: expected ${inSize} bytes (${count} x ${model.input.shape.join("x")}), got ${img.length}`,
      );
    pixels = Uint32Array.from(img);
  }
  let cur: Tensor = { kind: "A", x: await shareInput(ctx, DATA_OWNER, pixels, inSize) };

  for (let li = 0; li < model.layers.length; li++) {
    const l = model.layers[li];
    switch (l.kind) {
      case "dense":
      case "conv2d":
      case "depthwise2d":
      case "pointwise2d": {
        const p = sm.params.get(l);
        if (!p) throw new Error(`layer ${l.name}: not in the shared model`);
        const d = prep.b2a.get(l);
        const x: AShare =
          d && cur.kind === "B" && !cur.arith
            ? await b2aDaBits(ctx, cur.x, d)
            : await toArith(ctx, cur);
        const nextMsb = msbs[li + 1];
        if (l.outShift === 0 && model.layers[li + 1]?.kind === "sign" && nextMsb?.extract3) {
          // the sign's MSB takes the 3-of-3 output directly: no reshare
          cur = { kind: "Z", z: linearShares(ctx, linearOp(l, count), x, p.w, p.b) };
          break;
        }
        let y = await linear(ctx, linearOp(l, count), x, p.w, p.b);
        if (l.outShift > 0) {
          y =
            opts.truncation === "exact"
              ? await truncateExact(ctx, y, l.outShift, prep.trunc.get(l))
              : await truncate(ctx, y, l.outShift);
        }
        cur = { kind: "A", x: y };
        break;
      }
      case "sign": {
        const m = msbs[li]!;
        const s: { bits: BShare; arith?: AShare } =
          cur.kind === "Z" && m.extract3
            ? await signBits3(ctx, m, cur.z, prep.msb.get(l))
            : await signBits(ctx, m, await toArith(ctx, cur), prep.msb.get(l));
        cur = { kind: "B", x: s.bits, arith: s.arith };
        break;
      }
      case "relu":
        cur = {
          kind: "A",
          x: await relu(ctx, msbs[li]!, await toArith(ctx, cur), prep.msb.get(l)),
        };
        break;
      case "maxpool": {
        const g: PoolGeometry = {
          batch: count,
          inShape: l.inShape,
          pool: l.pool,
          strides: l.strides,
        };
        const mode = poolMode(l, opts);
        if (mode === "or") {
          if (cur.kind !== "B")
            throw new Error(`layer ${l.name}: OR maxpool needs the bits of a sign layer`);
          cur = { kind: "B", x: await maxpoolOr(ctx, cur.x, g) };
        } else if (mode === "sum-sign") {
          cur = {
            kind: "B",
            x: await maxpoolSumSign(ctx, await toArith(ctx, cur), g, msbs[li]!, prep.msb.get(l)),
          };
        } else {
          cur = { kind: "A", x: await maxpoolMax(ctx, await toArith(ctx, cur), g, msbs[li]!) };
        }
        break;
      }
    }
    onLayer?.(li, l);
  }
  const out = await revealTo(ctx, DATA_OWNER, await toArith(ctx, cur));
  const end = t.stats();
  return {
    logits: out ? new Int32Array(out.buffer, out.byteOffset, out.length) : null,
    setup: offline,
    online: phaseDelta(start.online, end.online),
    offline,
  };
}

/**
 * Runs an export under 3-party secure inference at one party (all three call
 * it concurrently with the same model, count and options): setup
 * ({@link setupSecureModel}: weights shared by the model owner), this batch's
 * offline material ({@link prepareBatch}) and the online step
 * ({@link runBatch}). For several batches, call `setupSecureModel` once and
 * `runBatch` per batch instead (the weights are then shared once).
 */
export async function runSecureInference(
  ctx: PartyContext,
  model: ModelExport,
  inputs: SecureInferenceInputs,
  opts: SecureInferenceOptions = {},
): Promise<SecureInferenceResult> {
  const { count } = inputs;
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`secure inference: count must be a positive integer, got ${count}`);
  const sm = await setupSecureModel(ctx, model, inputs.weights, opts);
  const res = await runBatch(ctx, sm, inputs);
  return { ...res, setup: sumPhaseStats(sm.setup, res.offline ?? res.setup) };
}
