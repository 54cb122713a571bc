import type { FloatModel } from "../export/float-model";
import { ExportFormatError } from "../model/errors";
import { shapeSize } from "../model/geometry";
import type { ModelExport } from "../model/types";
import { argmaxAgreement, evaluateFixedTraced, runFixedLayers } from "./fixed";
import { evaluateFloatTraced } from "./float";

/** How one sign layer of an export differs from the float model's. */
export interface SignLayerComparison {
  /** Sign layer name (the exporter keeps the float model's names). */
  name: string;
  /** Sign values compared (images x elements). */
  values: number;
  /** Bits where the export's full pass differs from the float model's. */
  flips: number;
  /**
   * Bits where this block alone differs: the export's layers since the
   * previous sign (or from the pixels), fed with the float model's bits. This
   * is the export's own error; `flips - isolatedFlips` came from earlier flips.
   */
  isolatedFlips: number;
  /**
   * Largest |float pre-sign value| (the input of the float sign, after batch
   * norm) among the isolated flips, 0 if none: a correct export only flips
   * near-ties, within its quantisation error of the threshold.
   */
  isolatedMaxMargin: number;
}

export interface FloatFixedComparison {
  count: number;
  /** Fraction of images where the float and fixed argmax agree. */
  argmaxAgreement: number;
  /** Largest |fixed logit / 2^outFracBits - float logit|. */
  maxLogitError: number;
  /** One entry per sign layer, in order (empty for nets without sign). */
  signLayers: SignLayerComparison[];
}

/**
 * Compares an export with the float model it came from on NHWC uint8 images:
 * logits, and per sign layer the bits that differ in the full pass and in the
 * block alone (fed with the float model's bits). Separates the export's own
 * error (isolated flips, all near-ties for a correct export) from what the
 * float model makes of it (flips that grow through later layers).
 * Needs the export's sign layers to carry the float model's sign names, in
 * the same order (as {@link exportModel} writes them).
 */
export function compareFloatFixed(
  float: FloatModel,
  model: ModelExport,
  weights: Int32Array,
  images: Uint8Array,
  count: number,
): FloatFixedComparison {
  const inSize = shapeSize(model.input.shape);
  if (!Number.isInteger(count) || count < 0 || images.length < count * inSize) {
    throw new ExportFormatError(
      "images",
      `${images.length} bytes, expected ${count} x ${inSize} (NHWC uint8 ${model.input.shape.join("x")})`,
    );
  }
  const fSigns = float.layers.flatMap((l, i) => (l.kind === "sign" ? [i] : []));
  const xSigns = model.layers.flatMap((l, i) => (l.kind === "sign" ? [i] : []));
  if (
    fSigns.length !== xSigns.length ||
    fSigns.some((fi, k) => float.layers[fi].name !== model.layers[xSigns[k]].name)
  ) {
    throw new ExportFormatError(
      "layers",
      `sign layers [${xSigns.map((i) => model.layers[i].name).join(", ")}] do not match the float model's [${fSigns.map((i) => float.layers[i].name).join(", ")}]`,
    );
  }
  const classes = model.classes.length;
  const outFrac = model.layers[model.layers.length - 1].outFracBits;
  const signLayers: SignLayerComparison[] = fSigns.map((fi) => ({
    name: float.layers[fi].name,
    values: 0,
    flips: 0,
    isolatedFlips: 0,
    isolatedMaxMargin: 0,
  }));
  const fxLogits = new Int32Array(count * classes);
  const fpLogits = new Float32Array(count * classes);
  const fWanted = new Map<number, number>(); // float layer index -> slot
  for (const fi of fSigns) {
    fWanted.set(fi - 1, fWanted.size);
    fWanted.set(fi, fWanted.size);
  }
  const xPos = new Map(xSigns.map((xi, k) => [xi, k]));
  let maxLogitError = 0;
  for (let n = 0; n < count; n++) {
    const image = images.subarray(n * inSize, (n + 1) * inSize);
    const fOut: Float64Array[] = [];
    const fp = evaluateFloatTraced(float, image, 1, (_, i, out) => {
      const slot = fWanted.get(i);
      if (slot !== undefined) fOut[slot] = out;
    });
    const xOut: Int32Array[] = [];
    const fx = evaluateFixedTraced(model, weights, image, 1, (_, i, out) => {
      const k = xPos.get(i);
      if (k !== undefined) xOut[k] = out;
    });
    fpLogits.set(fp, n * classes);
    fxLogits.set(fx, n * classes);
    for (let k = 0; k < classes; k++) {
      maxLogitError = Math.max(maxLogitError, Math.abs(fx[k] / 2 ** outFrac - fp[k]));
    }
    fSigns.forEach((fi, k) => {
      const pre = fOut[fWanted.get(fi - 1) as number];
      const bits = fOut[fWanted.get(fi) as number];
      const full = xOut[k];
      let input: Int32Array;
      if (k === 0) input = Int32Array.from(image);
      else {
        const prev = fOut[fWanted.get(fSigns[k - 1]) as number];
        input = Int32Array.from(prev, (v) => (v >= 0 ? 1 : 0));
      }
      const alone = runFixedLayers(
        model,
        weights,
        input,
        k === 0 ? 0 : xSigns[k - 1] + 1,
        xSigns[k] + 1,
      );
      const s = signLayers[k];
      s.values += bits.length;
      for (let e = 0; e < bits.length; e++) {
        const b = bits[e] >= 0 ? 1 : 0;
        if (full[e] !== b) s.flips++;
        if (alone[e] !== b) {
          s.isolatedFlips++;
          s.isolatedMaxMargin = Math.max(s.isolatedMaxMargin, Math.abs(pre[e]));
        }
      }
    });
  }
  return {
    count,
    argmaxAgreement: count > 0 ? argmaxAgreement(fxLogits, fpLogits, classes) : 0,
    maxLogitError,
    signLayers,
  };
}
