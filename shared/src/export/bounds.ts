import { ExportFormatError } from "../model/errors";
import type { LinearLayer, ModelExport } from "../model/types";

function isLinearLayer(l: ModelExport["layers"][number]): l is LinearLayer {
  return (
    l.kind === "dense" ||
    l.kind === "conv2d" ||
    l.kind === "depthwise2d" ||
    l.kind === "pointwise2d"
  );
}

/**
 * Largest |sum_k w_k u_k + bias| over every input u_k in [0, maxInput], per
 * output channel: the sum ranges over [neg * maxInput + bias, pos * maxInput +
 * bias] where pos / neg are the channel's sums of positive / negative weights,
 * and both ends are reached (inputs are independent), so the bound is tight.
 * `channelOf(k)` is weight k's output channel; `bias` holds one value per
 * channel or one per (position, channel) with the channel innermost. A tap
 * that reads padding (stored 0) stays inside its [min(0, w max), max(0, w
 * max)] interval, so border positions are covered too. About half the older
 * sum(|w|) max + |bias| for inputs in {0, 1} whose weights absorbed the
 * {-1, +1} map (W' = 2W, b' = b - W.1): there the tight bound is sum(|W|) +
 * |b|, the loose one 2 sum(|W|) + |b - W.1|.
 */
export function intervalMaxAbs(
  weights: ArrayLike<number>,
  channelOf: (k: number) => number,
  outC: number,
  bias: ArrayLike<number>,
  maxInput: number,
): number {
  let m = 0;
  for (const v of intervalMaxAbsPerChannel(weights, channelOf, outC, bias, maxInput)) {
    m = Math.max(m, v);
  }
  return m;
}

/** {@link intervalMaxAbs} of each output channel on its own (over its bias positions). */
export function intervalMaxAbsPerChannel(
  weights: ArrayLike<number>,
  channelOf: (k: number) => number,
  outC: number,
  bias: ArrayLike<number>,
  maxInput: number,
): Float64Array {
  const pos = new Float64Array(outC);
  const neg = new Float64Array(outC);
  for (let k = 0; k < weights.length; k++) {
    const v = weights[k];
    if (v > 0) pos[channelOf(k)] += v;
    else neg[channelOf(k)] += v;
  }
  const m = new Float64Array(outC);
  const row = (o: number, b: number) => {
    m[o] = Math.max(m[o], Math.abs(pos[o] * maxInput + b), Math.abs(neg[o] * maxInput + b));
  };
  if (bias.length === 0) for (let o = 0; o < outC; o++) row(o, 0);
  for (let k = 0; k < bias.length; k++) row(k % outC, bias[k]);
  return m;
}

/**
 * Largest possible |output| of a linear layer (after its shift) over every
 * input, when the input range is known: `maxInput` = 255 for uint8 pixels, 1
 * for bits ({@link intervalMaxAbs}: tight, per channel and bias position).
 * Computed in float64 without wrap-around, i.e. the true integer bound; the
 * ring result equals the integer result while this stays below 2^31.
 */
export function linearWorstCase(l: LinearLayer, weights: Int32Array, maxInput: number): number {
  const outC = l.outShape[2];
  const w = weights.subarray(l.weights.offset, l.weights.offset + l.weights.length);
  // every weight layout keeps the output channel innermost ([.., outC] or [kh, kw, C, 1])
  const period = l.kind === "depthwise2d" ? l.inShape[2] : outC;
  const b = weights.subarray(l.bias.offset, l.bias.offset + l.bias.length);
  const m = intervalMaxAbs(w, (k) => k % period, outC, b, maxInput);
  return Math.ceil(m / 2 ** l.outShift);
}

/** Smallest b >= 1 with m < 2^b. */
export function boundBits(m: number): number {
  let b = 1;
  while (2 ** b <= m) b++;
  return b;
}

/** Input range of layer i when it is known statically (255 pixels, 1 bits), else undefined. */
export function staticInputMax(model: ModelExport, i: number): number | undefined {
  const l = model.layers[i];
  if (i === 0) return 255;
  return l.inDomain === "bits" ? 1 : undefined;
}

/**
 * The proven `outBoundBits` of every linear layer whose input range is known
 * (index -> bits); other layers are absent from the map.
 */
export function computeOutBounds(model: ModelExport, weights: Int32Array): Map<number, number> {
  const out = new Map<number, number>();
  model.layers.forEach((l, i) => {
    const maxU = staticInputMax(model, i);
    if (!isLinearLayer(l) || maxU === undefined) return;
    out.set(i, boundBits(linearWorstCase(l, weights, maxU)));
  });
  return out;
}

/**
 * Checks every `outBoundBits` in `model` against the weights: the recorded
 * bound must hold (worst case < 2^outBoundBits). Throws ExportFormatError
 * naming `<file>: layers[i].outBoundBits` otherwise.
 */
export function checkOutBounds(model: ModelExport, weights: Int32Array, file = "model.json"): void {
  model.layers.forEach((l, i) => {
    if (!isLinearLayer(l) || l.outBoundBits === undefined) return;
    const maxU = staticInputMax(model, i);
    if (maxU === undefined) {
      throw new ExportFormatError(
        `${file}: layers[${i}].outBoundBits`,
        `layer "${l.name}" reads values whose range is not known statically`,
      );
    }
    const m = linearWorstCase(l, weights, maxU);
    if (m >= 2 ** l.outBoundBits) {
      throw new ExportFormatError(
        `${file}: layers[${i}].outBoundBits`,
        `is ${l.outBoundBits} but layer "${l.name}" can output |v| up to ${m} (needs ${boundBits(m)} bits)`,
      );
    }
  });
}

/**
 * A copy of `model` with the proven `outBoundBits` recorded on every linear
 * layer whose input range is known (for hand-made exports; the exporter
 * records them itself).
 */
export function withOutBounds(model: ModelExport, weights: Int32Array): ModelExport {
  const bounds = computeOutBounds(model, weights);
  return {
    ...model,
    layers: model.layers.map((l, i) => {
      const b = bounds.get(i);
      return b !== undefined && isLinearLayer(l) ? { ...l, outBoundBits: b } : l;
    }),
  };
}
