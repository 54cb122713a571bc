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
 * Largest possible |output| of a linear layer (after its shift) over every
 * input, when the input range is known: `maxInput` = 255 for uint8 pixels, 1
 * for bits. Per output channel: sum of |w| over the taps of that channel times
 * `maxInput`, plus the largest |bias| of the channel (stored padding is 0, so
 * padded taps only lower the sum). Computed in float64 without wrap-around,
 * i.e. the true integer bound; the ring result equals the integer result while
 * this stays below 2^31.
 */
export function linearWorstCase(l: LinearLayer, weights: Int32Array, maxInput: number): number {
  const outC = l.outShape[2];
  const wAbs = new Float64Array(outC);
  const w = weights.subarray(l.weights.offset, l.weights.offset + l.weights.length);
  // every weight layout keeps the output channel innermost ([.., outC] or [kh, kw, C, 1])
  const period = l.kind === "depthwise2d" ? l.inShape[2] : outC;
  for (let k = 0; k < w.length; k++) wAbs[k % period] += Math.abs(w[k]);
  const b = weights.subarray(l.bias.offset, l.bias.offset + l.bias.length);
  const bAbs = new Float64Array(outC);
  for (let k = 0; k < b.length; k++) bAbs[k % outC] = Math.max(bAbs[k % outC], Math.abs(b[k]));
  let m = 0;
  for (let o = 0; o < outC; o++) m = Math.max(m, wAbs[o] * maxInput + bAbs[o]);
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
