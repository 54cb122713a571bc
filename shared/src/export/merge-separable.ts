import { floatModelShapes } from "../eval/float";
import { ExportFormatError } from "../model/errors";
import type { FloatConv2d, FloatLayer, FloatModel } from "./float-model";

/** One depthwise + pointwise pair that {@link mergeSeparable} turned into a conv2d. */
export interface MergedSeparablePair {
  /** Name of the new conv2d layer: `<depthwise>+<pointwise>`. */
  name: string;
  depthwise: string;
  pointwise: string;
  /** Multiplications per image: depthwise + pointwise before, the conv after. */
  multsBefore: number;
  multsAfter: number;
  /** Weights (without biases): kh*kw*C + C*O before, kh*kw*C*O after. */
  weightsBefore: number;
  weightsAfter: number;
}

export interface MergeSeparableResult {
  model: FloatModel;
  merged: MergedSeparablePair[];
}

/** A merged conv's weights and bias in float64 (the products of float32 factors, exact). */
export interface ExactMergedTensors {
  weights: Float64Array;
  bias?: Float64Array;
}

/**
 * Rewrites every depthwise2d immediately followed by a pointwise2d into one
 * conv2d computing the same function (docs/export-format.md): with depthwise
 * weights D [kh, kw, C, 1], bias d, and pointwise weights P [C, O], bias q,
 *
 *   W[a, b, c, o] = D[a, b, c] * P[c, o],   bias[o] = sum_c d[c] * P[c, o] + q[o],
 *
 * with the depthwise's kernel, strides, padding and padValue (a padded value
 * p enters the depthwise as p * D and the conv as p * D * P: the same). In
 * secure inference this saves one reshare round per pair at kh*kw times the
 * pointwise's multiplications. The merged tensors are rounded to float32 (the
 * float model's storage); {@link mergeSeparableExact} also gives them in
 * float64. Other layers are copied by reference; the model is
 * validated first (ExportFormatError naming the field).
 */
export function mergeSeparable(model: FloatModel): MergeSeparableResult {
  const { model: m, merged } = mergeSeparableExact(model);
  return { model: m, merged };
}

/**
 * {@link mergeSeparable}, plus each merged conv's weights and bias in float64
 * by layer name (the model's conv2d holds them rounded to float32, as the
 * float model format stores tensors). The exporter quantises the float64 ones.
 */
export function mergeSeparableExact(
  model: FloatModel,
): MergeSeparableResult & { exact: Map<string, ExactMergedTensors> } {
  const shapes = floatModelShapes(model);
  const layers: FloatLayer[] = [];
  const merged: MergedSeparablePair[] = [];
  const exact = new Map<string, ExactMergedTensors>();
  const fl = model.layers;
  for (let i = 0; i < fl.length; i++) {
    const dw = fl[i];
    const pw = fl[i + 1];
    if (dw.kind !== "depthwise2d" || pw?.kind !== "pointwise2d") {
      layers.push(dw);
      continue;
    }
    const c = shapes[i].inShape[2];
    const [oh, ow] = shapes[i].outShape;
    const o = shapes[i + 1].outShape[2];
    const taps = dw.kernel[0] * dw.kernel[1];
    const weights = new Float64Array(taps * c * o);
    for (let t = 0; t < taps; t++) {
      for (let ci = 0; ci < c; ci++) {
        const d = dw.weights[t * c + ci];
        const base = (t * c + ci) * o;
        for (let k = 0; k < o; k++) weights[base + k] = d * pw.weights[ci * o + k];
      }
    }
    let bias: Float64Array | undefined;
    if (dw.bias || pw.bias) {
      bias = new Float64Array(o);
      if (pw.bias) bias.set(pw.bias);
      if (dw.bias) {
        for (let ci = 0; ci < c; ci++) {
          const d = dw.bias[ci];
          for (let k = 0; k < o; k++) bias[k] += d * pw.weights[ci * o + k];
        }
      }
    }
    const conv: FloatConv2d = {
      kind: "conv2d",
      name: `${dw.name}+${pw.name}`,
      kernel: [dw.kernel[0], dw.kernel[1]],
      strides: [dw.strides[0], dw.strides[1]],
      padding: dw.padding,
      padValue: dw.padValue,
      weights: Float32Array.from(weights),
      ...(bias ? { bias: Float32Array.from(bias) } : {}),
    };
    exact.set(conv.name, { weights, ...(bias ? { bias } : {}) });
    layers.push(conv);
    merged.push({
      name: conv.name,
      depthwise: dw.name,
      pointwise: pw.name,
      multsBefore: oh * ow * c * (taps + o),
      multsAfter: oh * ow * c * taps * o,
      weightsBefore: taps * c + c * o,
      weightsAfter: taps * c * o,
    });
    i++;
  }
  const names = new Set(fl.map((l) => l.name));
  for (const m of merged) {
    if (names.has(m.name)) {
      throw new ExportFormatError(
        "float.layers",
        `merging ${m.depthwise} and ${m.pointwise} gives the name ${m.name}, already used by another layer`,
      );
    }
  }
  return { model: { ...model, layers }, merged, exact };
}
