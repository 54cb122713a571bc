import { compareFloatFixed, type SignLayerComparison } from "../eval/compare";
import { traceRanges } from "../eval/fixed";
import { floatModelShapes } from "../eval/float";
import { checkExport } from "../model/check";
import { ExportFormatError } from "../model/errors";
import { shapeEquals } from "../model/geometry";
import { encodeWeights, sha256Hex } from "../model/io";
import {
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  type Layer,
  type LinearLayer,
  type ModelExport,
  RING_BITS,
  type Shape3,
  type TensorRef,
} from "../model/types";
import { boundBits, checkOutBounds, intervalMaxAbs, intervalMaxAbsPerChannel } from "./bounds";
import type { FloatBatchNorm, FloatLayer, FloatLinearLayer, FloatModel } from "./float-model";
import { type MergedSeparablePair, mergeSeparableExact } from "./merge-separable";

/** Default fractional bits (see docs/export-format.md for the measurement behind it). */
export const DEFAULT_FRAC_BITS = 12;
/** Default safety margin (bits) kept free above the largest calibrated activation. */
export const DEFAULT_MIN_HEADROOM_BITS = 1;
/**
 * Default cap on pre-sign magnitudes (bits): the largest bound the opt-in cbnn
 * MSB can serve; on the random test nets it changes no argmax against the
 * uncapped (~30-bit) precision (docs/export-format.md).
 */
export const DEFAULT_PRESIGN_BITS = 28;
/** Cap on the fractional bits of pre-sign layers reading pixels or bits. */
export const MAX_SIGN_FRAC_BITS = 28;

const INT32_MAX = 2 ** 31 - 1;

export interface ExportOptions {
  /** Fractional bits of weights and activations (default {@link DEFAULT_FRAC_BITS}). */
  fracBits?: number;
  /** NHWC uint8 images used to measure activation ranges (needed for ReLU nets). */
  calibration?: { images: Uint8Array; count: number };
  /** Bits to keep free above the largest calibrated |activation| (default 1). */
  minHeadroomBits?: number;
  /**
   * Cap on the magnitude of pre-sign values (bits): a layer reading pixels or
   * bits whose output only feeds sign gets the most fractional bits for which
   * its proven worst case |acc| stays below 2^presignBits (possibly fewer than
   * fracBits). Default: no cap (as many as fit the ring, up to
   * {@link MAX_SIGN_FRAC_BITS}). Small caps make the secure MSB cheaper and
   * are needed by the opt-in cbnn MSB (at most 28 bits, see docs/protocols.md).
   * Default {@link DEFAULT_PRESIGN_BITS}; `null`: no cap (up to 2^30).
   */
  presignBits?: number | null;
  /**
   * Merge each depthwise2d immediately followed by a pointwise2d into one
   * conv2d (W = D * P, {@link mergeSeparable}) before the fusions: the same
   * function with one linear layer (one reshare round) less per pair, at
   * kh*kw times the pointwise's multiplications. Default false.
   */
  mergeSeparable?: boolean;
  /** Recorded in model.json `source` (checkpoint path, anything else useful). */
  source: { checkpoint: string; createdAt?: string; [key: string]: unknown };
}

export interface LayerExportReport {
  name: string;
  kind: Layer["kind"];
  /** Fractional bits of the accumulator before any shift (linear layers). */
  accFracBits?: number;
  /** Worst case |accumulator| over all inputs (linear layers reading pixels or bits). */
  staticMaxAbs?: number;
  /** Largest |value| seen on the calibration images (before the shift for linear layers). */
  calibratedMaxAbs?: number;
  /** 31 - bits of the governing maximum (static where known, else calibrated). */
  headroomBits?: number;
  /** Largest fracBits for which this layer still fits (estimated from the ranges). */
  maxFracBits?: number;
  notes: string[];
}

export interface ExportReport {
  fracBits: number;
  /** The pre-sign cap used (option `presignBits`), null for no cap. */
  presignBits: number | null;
  minHeadroomBits: number;
  layers: LayerExportReport[];
  /** min over layers of maxFracBits. */
  maxSafeFracBits: number;
  /** The depthwise + pointwise pairs merged into one conv2d (option `mergeSeparable`). */
  mergedSeparable?: MergedSeparablePair[];
  calibration?: {
    count: number;
    /** Fraction of calibration images where fixed and float argmax agree. */
    argmaxAgreement: number;
    /** Largest |fixed logit / 2^fracBits - float logit|. */
    maxLogitError: number;
    /**
     * Per sign layer: bits that differ from the float model in the full pass
     * and in the block alone (fed with the float model's bits), see
     * {@link compareFloatFixed}.
     */
    signLayers: SignLayerComparison[];
  };
}

export interface ExportResult {
  model: ModelExport;
  weights: Int32Array;
  report: ExportReport;
}

/** Stored value u of the current activation, per channel: float x = a[c] * u + c[c]. */
interface ValueMap {
  domain: "pixels" | "bits" | "int";
  frac: number;
  a: Float64Array;
  c: Float64Array;
}

function isLinear(l: FloatLayer | undefined): l is FloatLinearLayer {
  return (
    l !== undefined &&
    (l.kind === "conv2d" ||
      l.kind === "depthwise2d" ||
      l.kind === "pointwise2d" ||
      l.kind === "dense")
  );
}

class BlobBuilder {
  private parts: Int32Array[] = [];
  private size = 0;
  add(values: Int32Array, shape: number[], fracBits: number): TensorRef {
    const ref = { offset: this.size, length: values.length, shape, fracBits };
    this.parts.push(values);
    this.size += values.length;
    return ref;
  }
  build(): Int32Array {
    const out = new Int32Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

function quantise(x: number, scale: number, layer: string, what: string, fracBits: number): number {
  const q = Math.round(x * scale);
  if (!Number.isFinite(q) || Math.abs(q) > INT32_MAX) {
    throw new ExportFormatError(
      "fracBits",
      `${fracBits} can overflow the ${RING_BITS}-bit ring: layer ${layer}: ${what} value ${x} does not fit int32 at ${Math.log2(scale)} fractional bits; use a smaller fracBits`,
    );
  }
  return q;
}

/**
 * Turns a float model into a fixed-point export with every fusion of
 * docs/export-format.md (the rules and proofs are there):
 * normalisation into the first linear layer, BN + Sign into a per-channel
 * threshold (channel negated where gamma' < 0), BN into W, b otherwise,
 * {-1,+1} -> {0,1} bit inputs absorbed by the next linear layer, per-position
 * bias where the float padding differs from a stored 0, maxpool after Sign as
 * "or", truncation only where the output feeds another product.
 * With `mergeSeparable`, each depthwise + pointwise pair is first merged into
 * one conv2d ({@link mergeSeparableExact}); error messages then name the
 * merged model's layer indices, and the calibration report still compares
 * with the float model as given.
 *
 * Refuses (ExportFormatError) a fracBits for which some accumulator can
 * overflow the 32-bit ring: worst case for layers reading pixels or bits,
 * measured on `calibration` for layers reading int activations.
 */
export function exportModel(input: FloatModel, opts: ExportOptions): ExportResult {
  const F = opts.fracBits ?? DEFAULT_FRAC_BITS;
  const margin = opts.minHeadroomBits ?? DEFAULT_MIN_HEADROOM_BITS;
  if (!Number.isInteger(F) || F < 0 || F > 24) {
    throw new ExportFormatError("fracBits", `must be an integer in 0..24, got ${F}`);
  }
  const P = opts.presignBits === null ? undefined : (opts.presignBits ?? DEFAULT_PRESIGN_BITS);
  if (P !== undefined && (!Number.isInteger(P) || P < 1 || P > 30)) {
    throw new ExportFormatError("presignBits", `must be an integer in 1..30, got ${P}`);
  }
  const merging = opts.mergeSeparable ? mergeSeparableExact(input) : undefined;
  const float = merging?.model ?? input;
  const mergedByName = new Map((merging?.merged ?? []).map((m) => [m.name, m]));
  const shapes = floatModelShapes(float);
  const maxStd = Math.max(...float.normalisation.std);
  // pixels are integers 0..255 with normalisation 1/std folded into the weights:
  // extra fractional bits keep W/std as precise as W at fracBits.
  const pixelExtra = Math.max(0, Math.ceil(Math.log2(maxStd)));
  const blob = new BlobBuilder();
  const layers: Layer[] = [];
  const reports: LayerExportReport[] = [];
  const fracCoeff: number[] = []; // per export layer: d(accFracBits)/d(fracBits), 0 if not linear
  const staticMax: (number | undefined)[] = [];
  const raisedBits: number[] = []; // extra fractional bits given to pre-sign layers

  let vm: ValueMap = {
    domain: "pixels",
    frac: 0,
    a: Float64Array.from(float.normalisation.std, (s) => 1 / s),
    c: Float64Array.from(float.normalisation.mean, (m, k) => -m / float.normalisation.std[k]),
  };
  let cur: Shape3 = [...float.input.shape];
  let flattened = false;
  const fl = float.layers;

  const base = (l: FloatLayer, inShape: Shape3, outShape: Shape3) => ({
    name: l.name,
    inShape,
    outShape,
    inDomain: vm.domain === "bits" ? ("bits" as const) : ("int" as const),
  });

  for (let i = 0; i < fl.length; i++) {
    const l = fl[i];
    const at = `float.layers[${i}] (${l.name})`;
    const s = shapes[i];
    if (l.kind !== "dense" && l.kind !== "flatten" && l.kind !== "sign" && l.kind !== "relu") {
      if (flattened && !shapeEquals(s.inShape, cur)) {
        throw new ExportFormatError(at, `a ${l.kind} after flatten is not supported`);
      }
    }
    if (l.kind === "flatten") {
      flattened = true;
      continue;
    }
    if (l.kind === "batchnorm") {
      throw new ExportFormatError(
        at,
        "batchnorm must directly follow a linear layer (conv2d, depthwise2d, pointwise2d, dense) to be fused",
      );
    }
    if (l.kind === "sign" || l.kind === "relu") {
      if (vm.domain !== "int") {
        throw new ExportFormatError(at, `${l.kind} must follow a linear layer, not ${vm.domain}`);
      }
      const out: Shape3 = [...cur];
      if (l.kind === "sign") {
        layers.push({ kind: "sign", ...base(l, cur, out), outDomain: "bits", outFracBits: 0 });
        const n = cur[2];
        vm = {
          domain: "bits",
          frac: 0,
          a: new Float64Array(n).fill(2),
          c: new Float64Array(n).fill(-1),
        };
      } else {
        layers.push({ kind: "relu", ...base(l, cur, out), outDomain: "int", outFracBits: vm.frac });
      }
      reports.push({ name: l.name, kind: l.kind, notes: [] });
      fracCoeff.push(0);
      staticMax.push(undefined);
      raisedBits.push(0);
      continue;
    }
    if (l.kind === "maxpool") {
      const mode = vm.domain === "bits" ? "or" : "max";
      const out: Shape3 = [s.outShape[0], s.outShape[1], cur[2]];
      layers.push({
        kind: "maxpool",
        ...base(l, cur, out),
        outDomain: vm.domain === "bits" ? "bits" : "int",
        outFracBits: vm.frac,
        pool: [...l.pool],
        strides: [...l.strides],
        mode,
      });
      reports.push({
        name: l.name,
        kind: "maxpool",
        notes: [mode === "or" ? "maxpool after sign: OR of bits" : "max of ints"],
      });
      fracCoeff.push(0);
      staticMax.push(undefined);
      raisedBits.push(0);
      cur = out;
      continue;
    }
    // ---- linear layer (+ optional batchnorm) ----
    const notes: string[] = [];
    const mergedPair = mergedByName.get(l.name);
    if (mergedPair) {
      notes.push(
        `depthwise ${mergedPair.depthwise} x pointwise ${mergedPair.pointwise} merged into one conv (${mergedPair.multsBefore} -> ${mergedPair.multsAfter} multiplications, one linear layer less)`,
      );
    }
    let j = i + 1;
    let bn: FloatBatchNorm | undefined;
    if (fl[j]?.kind === "batchnorm") {
      bn = fl[j] as FloatBatchNorm;
      j++;
    }
    const feedsSign = fl[j]?.kind === "sign";
    let feedsProduct = false;
    for (let k = j; k < fl.length; k++) {
      if (fl[k].kind === "sign") break;
      if (isLinear(fl[k])) {
        feedsProduct = true;
        break;
      }
    }
    const inDomain = vm.domain;
    const baseWF = inDomain === "pixels" ? F + pixelExtra : F;
    const [h, w, c] = cur;
    // a merged separable pair: quantise its float64 products, not their float32 copy
    const exact = merging?.exact.get(l.name);
    const W: ArrayLike<number> = exact?.weights ?? l.weights;
    const lBias: ArrayLike<number> | undefined = exact ? exact.bias : l.bias;
    const nW = W.length;
    let outShape: Shape3;
    let outC: number;
    let icOf: (k: number) => number;
    let ocOf: (k: number) => number;
    switch (l.kind) {
      case "conv2d":
        outC = s.outShape[2];
        outShape = [s.outShape[0], s.outShape[1], outC];
        ocOf = (k) => k % outC;
        icOf = (k) => Math.floor(k / outC) % c;
        break;
      case "depthwise2d":
        outC = c;
        outShape = [s.outShape[0], s.outShape[1], outC];
        ocOf = (k) => k % c;
        icOf = ocOf;
        break;
      case "pointwise2d":
        outC = s.outShape[2];
        outShape = [h, w, outC];
        ocOf = (k) => k % outC;
        icOf = (k) => Math.floor(k / outC);
        break;
      case "dense":
        outC = s.outShape[2];
        outShape = [1, 1, outC];
        ocOf = (k) => k % outC;
        icOf = (k) => Math.floor(k / outC) % c;
        break;
    }
    // effective float weights on the stored input u, bias absorbing the offsets c
    const wEff = new Float64Array(nW);
    const bEff = new Float64Array(outC);
    if (lBias) bEff.set(lBias);
    for (let k = 0; k < nW; k++) {
      const ic = icOf(k);
      wEff[k] = W[k] * vm.a[ic];
      bEff[ocOf(k)] += W[k] * vm.c[ic];
    }
    if (inDomain === "pixels") notes.push("input normalisation folded into weights and bias");
    if (inDomain === "bits") notes.push("reads sign bits: W' = 2W, b' = b - W.1");
    // per-position bias where the float padding value differs from the stored 0
    let corr: Float64Array | undefined;
    const spatial = l.kind === "conv2d" || l.kind === "depthwise2d";
    if (spatial) {
      const pad = s.pad;
      const diff = Float64Array.from(vm.c, (cv) => l.padValue - cv);
      const padded = pad.top + pad.bottom + pad.left + pad.right > 0;
      if (padded && diff.some((d) => Math.abs(d) > 0)) {
        const [oh, ow] = outShape;
        const [kh, kw] = l.kernel;
        const [sh, sw] = l.strides;
        corr = new Float64Array(oh * ow * outC);
        for (let y = 0; y < oh; y++) {
          for (let x = 0; x < ow; x++) {
            const pb = (y * ow + x) * outC;
            for (let a = 0; a < kh; a++) {
              const ii = y * sh + a - pad.top;
              for (let b = 0; b < kw; b++) {
                const jj = x * sw + b - pad.left;
                if (ii >= 0 && ii < h && jj >= 0 && jj < w) continue;
                for (let ic = 0; ic < c; ic++) {
                  if (diff[ic] === 0) continue;
                  if (l.kind === "depthwise2d") {
                    corr[pb + ic] += W[(a * kw + b) * c + ic] * diff[ic];
                  } else {
                    const wb = ((a * kw + b) * c + ic) * outC;
                    for (let o = 0; o < outC; o++) corr[pb + o] += W[wb + o] * diff[ic];
                  }
                }
              }
            }
          }
        }
        notes.push(`per-position bias: float padded with ${l.padValue}, stored padding is 0`);
      }
    }
    // batch norm
    const constBit = new Int8Array(outC).fill(-1); // channel with a constant sign output: 0/1
    if (bn) {
      const maxU = inDomain === "pixels" ? 255 : inDomain === "bits" ? 1 : Number.POSITIVE_INFINITY;
      const wAbs = new Float64Array(outC);
      for (let k = 0; k < nW; k++) wAbs[ocOf(k)] += Math.abs(wEff[k]);
      const corrMax = new Float64Array(outC);
      if (corr) {
        for (let k = 0; k < corr.length; k++) {
          const o = k % outC;
          corrMax[o] = Math.max(corrMax[o], Math.abs(corr[k]));
        }
      }
      let negated = 0;
      let constant = 0;
      for (let o = 0; o < outC; o++) {
        const g = bn.gamma[o] / Math.sqrt(bn.variance[o] + bn.epsilon);
        const betaP = bn.beta[o] - g * bn.mean[o];
        if (!Number.isFinite(g) || !Number.isFinite(betaP)) {
          throw new ExportFormatError(`${at} + ${bn.name}`, `batchnorm channel ${o} is not finite`);
        }
        if (feedsSign) {
          // sign(g z + beta') = sign(sgn(g) (z + beta'/g)), sign(0) = +1 kept by the >= 0 test
          const t = g === 0 ? Number.POSITIVE_INFINITY : betaP / g;
          const zBound = wAbs[o] * maxU + Math.abs(bEff[o]) + corrMax[o];
          if (g === 0 || Math.abs(t) > zBound) {
            constBit[o] = betaP >= 0 ? 1 : 0;
            constant++;
            continue;
          }
          bEff[o] += t;
          if (g < 0) negated++;
        } else {
          bEff[o] = g * bEff[o] + betaP;
        }
      }
      for (let k = 0; k < nW; k++) {
        const o = ocOf(k);
        const g = bn.gamma[o] / Math.sqrt(bn.variance[o] + bn.epsilon);
        if (feedsSign) {
          if (constBit[o] >= 0) wEff[k] = 0;
          else if (g < 0) wEff[k] = -wEff[k];
        } else {
          wEff[k] *= g;
        }
      }
      if (feedsSign) {
        for (let o = 0; o < outC; o++) {
          const g = bn.gamma[o] / Math.sqrt(bn.variance[o] + bn.epsilon);
          if (g < 0 && constBit[o] < 0) bEff[o] = -bEff[o];
        }
      }
      if (corr) {
        for (let k = 0; k < corr.length; k++) {
          const o = k % outC;
          const g = bn.gamma[o] / Math.sqrt(bn.variance[o] + bn.epsilon);
          if (feedsSign) corr[k] = constBit[o] >= 0 ? 0 : g < 0 ? -corr[k] : corr[k];
          else corr[k] *= g;
        }
      }
      notes.push(
        feedsSign
          ? `batchnorm ${bn.name} -> per-channel threshold (${negated} channels negated for gamma' < 0, ${constant} constant)`
          : `batchnorm ${bn.name} folded into weights and bias`,
      );
    }
    // Sign is scale-free: a layer reading pixels or bits whose output only feeds
    // sign gets as many fractional bits as its worst case allows (<= 2^30).
    let wF = baseWF;
    if (feedsSign && inDomain !== "int") {
      const maxU = inDomain === "pixels" ? 255 : 1;
      // the bias of every output position (per-position where padding needs it)
      const biasAll = (): Float64Array =>
        corr ? Float64Array.from(corr, (v, k) => v + bEff[k % outC]) : bEff;
      // the quantised worst case of each channel, exactly as the weights and biases below are quantised
      const quantPerChannel = (f: number): Float64Array => {
        const sc = 2 ** f;
        const wq = Float64Array.from(wEff, (v) => Math.round(v * sc));
        const positions = corr ? corr.length / outC : 1;
        const bq = new Float64Array(positions * outC);
        for (let k = 0; k < bq.length; k++) {
          const o = k % outC;
          bq[k] =
            constBit[o] >= 0
              ? constBit[o] === 1
                ? 0
                : -1
              : Math.round((bEff[o] + (corr ? corr[k] : 0)) * sc);
        }
        return intervalMaxAbsPerChannel(wq, ocOf, outC, bq, maxU);
      };
      const quantMax = (f: number): number => Math.max(0, ...quantPerChannel(f));
      const bound = intervalMaxAbs(wEff, ocOf, outC, biasAll(), maxU);
      const fit = Math.floor(30 - Math.log2(bound + 2 ** -20));
      wF = Math.max(baseWF, Math.min(fit, MAX_SIGN_FRAC_BITS));
      if (P !== undefined) {
        // largest wF whose quantised worst case stays below 2^P
        let f = Math.min(MAX_SIGN_FRAC_BITS, Math.floor(P - Math.log2(bound + 2 ** -20)) + 1);
        while (f >= 0 && quantMax(f) >= 2 ** P) f--;
        if (f < 0) {
          throw new ExportFormatError(
            "presignBits",
            `${P} is too small for layer ${l.name}: even 0 fractional bits give |acc| up to ${quantMax(0)}`,
          );
        }
        wF = f;
        notes.push(`pre-sign layer: ${wF} fractional bits (presignBits ${P})`);
      } else if (wF > baseWF) notes.push(`pre-sign layer: ${wF} fractional bits (worst case fits)`);
      // Sign is scale-free per channel too: give each channel extra fractional
      // bits (a power-of-two scale of its weights and threshold, so exact ties
      // stay exact) while its own worst case fits what wF allows (2^30, or
      // 2^presignBits), so a channel with small weights is not rounded at the
      // precision the largest channel leaves it.
      const room = 2 ** (P ?? 30);
      if (bound * 2 ** wF < room) {
        const scaleChannels = (factor: Float64Array): void => {
          for (let k = 0; k < nW; k++) wEff[k] *= factor[ocOf(k)];
          for (let o = 0; o < outC; o++) bEff[o] *= factor[o];
          if (corr) for (let k = 0; k < corr.length; k++) corr[k] *= factor[k % outC];
        };
        const perChannel = intervalMaxAbsPerChannel(wEff, ocOf, outC, biasAll(), maxU);
        // 2^-12 below the room: space for rounding every weight (<= 0.5 x maxU each)
        const target = (room / 2 ** wF) * (1 - 2 ** -12);
        const factor = Float64Array.from(perChannel, (v, o) =>
          constBit[o] < 0 && v > 0 && v < target
            ? 2 ** Math.min(64, Math.floor(Math.log2(target / v)))
            : 1,
        );
        scaleChannels(factor);
        // a scaled channel that rounding still pushes past the room keeps one bit less
        const quantised = quantPerChannel(wF);
        const back = Float64Array.from(factor, (v, o) => (v > 1 && quantised[o] >= room ? 0.5 : 1));
        scaleChannels(back);
        for (let o = 0; o < outC; o++) factor[o] *= back[o];
        const raised = factor.filter((v) => v > 1).length;
        if (raised > 0) {
          const gains = Array.from(factor, Math.log2).sort((a, b) => a - b);
          notes.push(
            `per-channel scale: ${raised} of ${outC} channels given more fractional bits (median +${gains[Math.floor(outC / 2)]}, at most +${gains[outC - 1]})`,
          );
        }
      }
    }
    const accF = wF + vm.frac;
    const outShift = feedsProduct ? accF - F : 0;
    // quantise
    const scale = 2 ** accF;
    const wq = new Int32Array(nW);
    for (let k = 0; k < nW; k++) wq[k] = quantise(wEff[k], scale, l.name, "weight", F);
    const perPos = corr !== undefined;
    const positions = perPos ? outShape[0] * outShape[1] : 1;
    const bq = new Int32Array(positions * outC);
    for (let p = 0; p < positions; p++) {
      for (let o = 0; o < outC; o++) {
        const k = p * outC + o;
        if (constBit[o] >= 0) bq[k] = constBit[o] === 1 ? 0 : -1;
        else bq[k] = quantise(bEff[o] + (corr ? corr[k] : 0), scale, l.name, "bias", F);
      }
    }
    // worst case |acc| when the input range is known
    let sMax: number | undefined;
    if (inDomain !== "int") {
      const maxU = inDomain === "pixels" ? 255 : 1;
      sMax = intervalMaxAbs(wq, ocOf, outC, bq, maxU);
    }
    const weightShape =
      l.kind === "conv2d"
        ? [l.kernel[0], l.kernel[1], c, outC]
        : l.kind === "depthwise2d"
          ? [l.kernel[0], l.kernel[1], c, 1]
          : l.kind === "pointwise2d"
            ? [c, outC]
            : [h * w * c, outC];
    const weights = blob.add(wq, weightShape, wF);
    const bias = blob.add(bq, perPos ? [outShape[0], outShape[1], outC] : [outC], accF);
    const lin = {
      ...base(l, cur, outShape),
      outDomain: "int" as const,
      outFracBits: accF - outShift,
      weights,
      bias,
      outShift,
      ...(sMax !== undefined ? { outBoundBits: boundBits(Math.ceil(sMax / 2 ** outShift)) } : {}),
    };
    let layer: LinearLayer;
    if (l.kind === "conv2d" || l.kind === "depthwise2d") {
      layer = {
        kind: l.kind,
        ...lin,
        kernel: [...l.kernel],
        strides: [...l.strides],
        padding: { ...s.pad },
      };
    } else {
      layer = { kind: l.kind, ...lin };
    }
    if (outShift > 0) notes.push(`truncation by ${outShift} bits (output feeds another product)`);
    layers.push(layer);
    reports.push({ name: l.name, kind: l.kind, accFracBits: accF, staticMaxAbs: sMax, notes });
    fracCoeff.push(inDomain === "int" ? 2 : 1);
    // a presignBits-capped layer's precision does not follow fracBits: it never limits it
    raisedBits.push(feedsSign && inDomain !== "int" && P !== undefined ? 64 : wF - baseWF);
    staticMax.push(sMax);
    const fOut = accF - outShift;
    vm = {
      domain: "int",
      frac: fOut,
      a: new Float64Array(outC).fill(2 ** -fOut),
      c: new Float64Array(outC),
    };
    cur = outShape;
    i = j - 1;
  }

  const weights = blob.build();
  const model: ModelExport = {
    format: EXPORT_FORMAT,
    version: EXPORT_FORMAT_VERSION,
    name: float.name,
    ringBits: RING_BITS,
    input: { shape: [...float.input.shape], encoding: "uint8", dataset: float.dataset },
    classes: [...float.classes],
    layers,
    blob: {
      file: "weights.bin",
      bytes: weights.length * 4,
      sha256: sha256Hex(encodeWeights(weights)),
    },
    source: {
      ...opts.source,
      checkpoint: opts.source.checkpoint,
      dataset: float.dataset,
      normalisation: {
        mean: [...float.normalisation.mean],
        std: [...float.normalisation.std],
      },
      createdAt: opts.source.createdAt ?? new Date().toISOString(),
      fracBits: F,
      presignBits: P ?? null,
      ...(merging ? { mergeSeparable: true } : {}),
    },
  };
  checkExport(model, weights.length, "export");
  checkOutBounds(model, weights, "export");

  // ---- range check ----
  let ranges: ReturnType<typeof traceRanges> | undefined;
  const cal = opts.calibration;
  if (cal && cal.count > 0) ranges = traceRanges(model, weights, cal.images, cal.count);
  let maxSafe = Number.POSITIVE_INFINITY;
  const problems: string[] = [];
  layers.forEach((layer, k) => {
    const r = reports[k];
    if (ranges) r.calibratedMaxAbs = ranges[k].maxAbs;
    if (!("weights" in layer)) return;
    const sm = staticMax[k];
    let bits: number;
    let limit: number;
    if (sm !== undefined) {
      bits = Math.ceil(Math.log2(sm + 1));
      limit = 31; // a worst-case bound needs no margin
    } else if (ranges) {
      bits = ranges[k].bits;
      limit = 31 - margin;
    } else {
      throw new ExportFormatError(
        "calibration",
        `layer ${layer.name} reads int activations whose range is only known from data: pass calibration images`,
      );
    }
    r.headroomBits = 31 - bits;
    // a raised pre-sign layer only limits fracBits once its base precision no longer fits
    r.maxFracBits = F + Math.floor((limit - bits + raisedBits[k]) / fracCoeff[k]);
    maxSafe = Math.min(maxSafe, r.maxFracBits);
    if (bits > limit) {
      problems.push(
        `layer ${layer.name}: |accumulator| up to ${sm ?? ranges?.[k].maxAbs} needs ${bits} bits (${sm !== undefined ? "worst case" : `calibrated, keeping ${margin} bit(s) free`})`,
      );
    }
  });
  if (problems.length > 0) {
    throw new ExportFormatError(
      "fracBits",
      `${F} can overflow the ${RING_BITS}-bit ring: ${problems.join("; ")}. fracBits <= ${maxSafe} would fit`,
    );
  }
  const report: ExportReport = {
    fracBits: F,
    presignBits: P ?? null,
    minHeadroomBits: margin,
    layers: reports,
    maxSafeFracBits: maxSafe,
    ...(merging ? { mergedSeparable: merging.merged } : {}),
  };
  if (cal && cal.count > 0) {
    // against the model as given: merging is part of what is checked
    report.calibration = compareFloatFixed(input, model, weights, cal.images, cal.count);
  }
  return { model, weights, report };
}

/** One line per layer, for CLIs. */
export function formatExportReport(r: ExportReport): string {
  const lines = [`fracBits ${r.fracBits} (largest safe: ${r.maxSafeFracBits})`];
  if (r.mergedSeparable) {
    const m = r.mergedSeparable;
    const sum = (f: (p: MergedSeparablePair) => number) => m.reduce((a, p) => a + f(p), 0);
    lines.push(
      `merged ${m.length} depthwise + pointwise pair(s) into conv2d: ${sum((p) => p.weightsBefore)} -> ${sum((p) => p.weightsAfter)} weights, ${sum((p) => p.multsBefore)} -> ${sum((p) => p.multsAfter)} multiplications per image in those layers`,
    );
  }
  for (const l of r.layers) {
    const parts = [`${l.name} (${l.kind})`];
    if (l.accFracBits !== undefined) parts.push(`acc frac ${l.accFracBits}`);
    if (l.staticMaxAbs !== undefined) parts.push(`worst |acc| ${l.staticMaxAbs}`);
    if (l.calibratedMaxAbs !== undefined) parts.push(`calibrated max ${l.calibratedMaxAbs}`);
    if (l.headroomBits !== undefined) parts.push(`headroom ${l.headroomBits} bits`);
    lines.push(`  ${parts.join(", ")}${l.notes.length ? ` - ${l.notes.join("; ")}` : ""}`);
  }
  if (r.calibration) {
    const c = r.calibration;
    const pct = (k: number, n: number) => `${((100 * k) / Math.max(n, 1)).toFixed(3)}%`;
    if (c.signLayers.length > 0) {
      lines.push(
        "sign bits that differ from the float model (full pass / this block alone on the float model's bits, largest |pre-sign| among the block's own flips):",
      );
      for (const s of c.signLayers) {
        lines.push(
          `  ${s.name}: ${pct(s.flips, s.values)} / ${pct(s.isolatedFlips, s.values)}${s.isolatedFlips > 0 ? ` (${s.isolatedMaxMargin.toExponential(1)})` : ""}`,
        );
      }
    }
    lines.push(
      `calibration: ${c.count} images, argmax agreement ${(c.argmaxAgreement * 100).toFixed(2)}%, max logit error ${c.maxLogitError.toExponential(2)}`,
    );
    const note = sensitivityNote(c, r);
    if (note) lines.push(note);
  }
  return lines.join("\n");
}

/**
 * Where the argmax agreement is below 99% on a sign net: whether the export's
 * own (isolated) flips or their growth through the float model explain it,
 * and which export options buy precision where the flips start.
 */
function sensitivityNote(
  c: NonNullable<ExportReport["calibration"]>,
  r: ExportReport,
): string | undefined {
  if (c.argmaxAgreement >= 0.99 || c.signLayers.length === 0) return undefined;
  const last = c.signLayers[c.signLayers.length - 1];
  const own = Math.max(...c.signLayers.map((s) => s.isolatedFlips / Math.max(s.values, 1)));
  const margin = Math.max(...c.signLayers.map((s) => s.isolatedMaxMargin));
  const fmt = (x: number) => `${(100 * x).toFixed(3)}%`;
  const levers: string[] = [];
  if (r.layers.some((l) => l.kind === "depthwise2d")) {
    levers.push(
      "--merge-separable (the merged conv reads sign bits, so it gets pre-sign precision instead of an F-bit depthwise output)",
    );
  }
  if (r.presignBits !== null && r.presignBits < 30) {
    levers.push(
      `--presign-bits none (up to ${30 - r.presignBits} more fractional bits for layers reading pixels or bits; the opt-in cbnn MSB then refuses the export)`,
    );
  }
  const advice = levers.length
    ? `fewer flips at the source help: try ${levers.join(", and ")}`
    : "the layers reading pixels or bits already use the ring's precision";
  if (last.flips > 10 * Math.max(last.isolatedFlips, 1)) {
    return `note: each block alone differs from the float model on at most ${fmt(own)} of its sign bits, all within ${margin.toExponential(1)} of the threshold (quantisation), but the full pass grows this to ${fmt(last.flips / Math.max(last.values, 1))} by ${last.name}: the float model amplifies single near-threshold flips; ${advice} (docs/export-format.md, "Sensitive models")`;
  }
  return `note: the blocks' own flips (up to ${fmt(own)} of a layer's sign bits, |pre-sign| up to ${margin.toExponential(1)}) explain most of the disagreement: ${advice}, or a larger fracBits`;
}
