import { checkExport } from "../model/check";
import { ExportFormatError } from "../model/errors";
import { shapeSize } from "../model/geometry";
import { tensorOf } from "../model/tensor";
import type { Layer, ModelExport } from "../model/types";

/**
 * The plaintext fixed-point reference evaluator: computes exactly what the
 * secure protocols compute, in the ring Z_2^32 read as two's-complement int32.
 *
 * - linear layers: acc = sum(Math.imul(w, x)) + b, wrapping mod 2^32 (Int32Array
 *   stores wrap); when outShift > 0, y = acc >> outShift (arithmetic shift =
 *   floor division by 2^outShift);
 * - sign: y = (x >= 0) ? 1 : 0, on the int32 value;
 * - relu: y = max(x, 0);
 * - maxpool "or": y = OR of the window's bits; "sum-sign": y = (sum - 1 >= 0);
 *   "max": y = max of the window.
 * Zero padding pads the stored values with 0.
 *
 * Written as plain loops, independent of the inference package's kernels.
 */

type Vec = Int32Array | Float64Array;

interface RunOptions {
  /** true: int32 ring arithmetic; false: exact-ish real arithmetic (float64) for range tracing. */
  ring: boolean;
  /** Called per layer with the largest |value| before any shift (linear) or of the output. */
  onLayer?: (index: number, maxAbs: number) => void;
  /** Called per image and layer with the layer's output (after any shift). */
  onOutput?: (image: number, index: number, out: Vec) => void;
}

function alloc(ring: boolean, n: number): Vec {
  return ring ? new Int32Array(n) : new Float64Array(n);
}

function maxAbsOf(v: Vec): number {
  let m = 0;
  for (let k = 0; k < v.length; k++) {
    const a = Math.abs(v[k]);
    if (a > m) m = a;
  }
  return m;
}

export function linearAcc(l: Layer, weights: Int32Array, x: Vec, ring: boolean): Vec {
  if (!("weights" in l)) throw new Error("not a linear layer");
  const W = tensorOf(weights, l.weights);
  const B = tensorOf(weights, l.bias);
  const perPos = l.bias.shape.length === 3;
  const [h, w, c] = l.inShape;
  const [oh, ow, oc] = l.outShape;
  const acc = alloc(ring, oh * ow * oc);
  // bias
  for (let p = 0; p < oh * ow; p++) {
    for (let o = 0; o < oc; o++) acc[p * oc + o] = perPos ? B[p * oc + o] : B[o];
  }
  switch (l.kind) {
    case "conv2d":
    case "depthwise2d": {
      const [kh, kw] = l.kernel;
      const [sh, sw] = l.strides;
      const dw = l.kind === "depthwise2d";
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const base = (i * ow + j) * oc;
          for (let a = 0; a < kh; a++) {
            const ii = i * sh + a - l.padding.top;
            if (ii < 0 || ii >= h) continue; // padded rows hold 0
            for (let b = 0; b < kw; b++) {
              const jj = j * sw + b - l.padding.left;
              if (jj < 0 || jj >= w) continue;
              const xb = (ii * w + jj) * c;
              for (let ci = 0; ci < c; ci++) {
                const xv = x[xb + ci];
                if (xv === 0) continue;
                if (dw) {
                  const wv = W[(a * kw + b) * c + ci];
                  acc[base + ci] += ring ? Math.imul(wv, xv) : wv * xv;
                } else {
                  const wb = ((a * kw + b) * c + ci) * oc;
                  if (ring) {
                    for (let o = 0; o < oc; o++) acc[base + o] += Math.imul(W[wb + o], xv);
                  } else {
                    for (let o = 0; o < oc; o++) acc[base + o] += W[wb + o] * xv;
                  }
                }
              }
            }
          }
        }
      }
      break;
    }
    case "pointwise2d":
    case "dense": {
      const positions = l.kind === "dense" ? 1 : h * w;
      const n = l.kind === "dense" ? h * w * c : c;
      for (let p = 0; p < positions; p++) {
        for (let k = 0; k < n; k++) {
          const xv = x[p * n + k];
          if (xv === 0) continue;
          const wb = k * oc;
          if (ring) {
            for (let o = 0; o < oc; o++) acc[p * oc + o] += Math.imul(W[wb + o], xv);
          } else {
            for (let o = 0; o < oc; o++) acc[p * oc + o] += W[wb + o] * xv;
          }
        }
      }
      break;
    }
  }
  return acc;
}

export function shiftRight(acc: Vec, s: number, ring: boolean): Vec {
  if (s === 0) return acc;
  if (ring) {
    for (let k = 0; k < acc.length; k++) acc[k] = acc[k] >> s;
  } else {
    const d = 2 ** s;
    for (let k = 0; k < acc.length; k++) acc[k] = Math.floor(acc[k] / d);
  }
  return acc;
}

export function maxpool(l: Extract<Layer, { kind: "maxpool" }>, x: Vec, ring: boolean): Vec {
  const [, w, c] = l.inShape;
  const [oh, ow] = l.outShape;
  const [ph, pw] = l.pool;
  const [sh, sw] = l.strides;
  const y = alloc(ring, oh * ow * c);
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      for (let ci = 0; ci < c; ci++) {
        let m = Number.NEGATIVE_INFINITY;
        let any = 0;
        let sum = 0;
        for (let a = 0; a < ph; a++) {
          for (let b = 0; b < pw; b++) {
            const v = x[((i * sh + a) * w + j * sw + b) * c + ci];
            if (v > m) m = v;
            any |= v;
            sum += v;
          }
        }
        const k = (i * ow + j) * c + ci;
        if (l.mode === "max") y[k] = m;
        else if (l.mode === "or") y[k] = any;
        else y[k] = (ring ? (sum - 1) | 0 : sum - 1) >= 0 ? 1 : 0;
      }
    }
  }
  return y;
}

/** One layer on one image's activation (ring or float64); onAcc sees a linear layer's pre-shift values. */
function applyFixedLayer(
  l: Layer,
  weights: Int32Array,
  x: Vec,
  ring: boolean,
  onAcc?: (acc: Vec) => void,
): Vec {
  switch (l.kind) {
    case "conv2d":
    case "depthwise2d":
    case "pointwise2d":
    case "dense": {
      const acc = linearAcc(l, weights, x, ring);
      onAcc?.(acc);
      return shiftRight(acc, l.outShift, ring);
    }
    case "sign": {
      const y = alloc(ring, x.length);
      for (let k = 0; k < x.length; k++) y[k] = x[k] >= 0 ? 1 : 0;
      return y;
    }
    case "relu": {
      const y = alloc(ring, x.length);
      for (let k = 0; k < x.length; k++) y[k] = Math.max(x[k], 0);
      return y;
    }
    case "maxpool":
      return maxpool(l, x, ring);
  }
}

function run(
  model: ModelExport,
  weights: Int32Array,
  images: Uint8Array,
  count: number,
  opts: RunOptions,
): Vec {
  checkExport(model, weights.length);
  const inSize = shapeSize(model.input.shape);
  if (!Number.isInteger(count) || count < 0 || images.length < count * inSize) {
    throw new ExportFormatError(
      "images",
      `${images.length} bytes, expected ${count} x ${inSize} (NHWC uint8 ${model.input.shape.join("x")})`,
    );
  }
  const classes = model.classes.length;
  const out = alloc(opts.ring, count * classes);
  const { ring, onLayer, onOutput } = opts;
  for (let n = 0; n < count; n++) {
    let x: Vec = alloc(ring, inSize);
    for (let k = 0; k < inSize; k++) x[k] = images[n * inSize + k];
    model.layers.forEach((l, li) => {
      const onAcc =
        onLayer && "weights" in l ? (acc: Vec) => onLayer(li, maxAbsOf(acc)) : undefined;
      x = applyFixedLayer(l, weights, x, ring, onAcc);
      if (onLayer && !("weights" in l)) onLayer(li, maxAbsOf(x));
      onOutput?.(n, li, x);
    });
    out.set(x, n * classes);
  }
  return out;
}

/**
 * Runs `model.layers[from .. to-1]` on one activation `x` (the stored int32
 * input of layer `from`, e.g. {0,1} bits after a sign) in the ring, exactly as
 * {@link evaluateFixed} does inside a full pass. Used to check a block of the
 * export in isolation, fed with the float model's activations.
 */
export function runFixedLayers(
  model: ModelExport,
  weights: Int32Array,
  x: Int32Array,
  from: number,
  to: number,
): Int32Array {
  if (
    !Number.isInteger(from) ||
    !Number.isInteger(to) ||
    from < 0 ||
    to > model.layers.length ||
    from > to
  ) {
    throw new RangeError(`runFixedLayers: layers ${from}..${to} outside 0..${model.layers.length}`);
  }
  if (from < to && x.length !== shapeSize(model.layers[from].inShape)) {
    throw new ExportFormatError(
      `layers[${from}].inShape`,
      `is [${model.layers[from].inShape.join(", ")}] but the activation has ${x.length} values`,
    );
  }
  let v: Vec = x;
  for (let li = from; li < to; li++) v = applyFixedLayer(model.layers[li], weights, v, true);
  return v as Int32Array;
}

/**
 * Logits (count x classes, int32 with the last layer's outFracBits) of the
 * export on NHWC uint8 images, computed exactly as the secure protocols do.
 */
export function evaluateFixed(
  model: ModelExport,
  weights: Int32Array,
  images: Uint8Array,
  count: number,
): Int32Array {
  return run(model, weights, images, count, { ring: true }) as Int32Array;
}

/**
 * {@link evaluateFixed} that also hands every layer's int32 output (after
 * any shift) to `onOutput(image, layerIndex, out)`; `out` is not modified
 * afterwards, so it may be kept.
 */
export function evaluateFixedTraced(
  model: ModelExport,
  weights: Int32Array,
  images: Uint8Array,
  count: number,
  onOutput: (image: number, index: number, out: Int32Array) => void,
): Int32Array {
  return run(model, weights, images, count, {
    ring: true,
    onOutput: (n, i, out) => onOutput(n, i, out as Int32Array),
  }) as Int32Array;
}

export interface LayerRange {
  index: number;
  name: string;
  kind: Layer["kind"];
  /** Largest |value| seen, computed without wrap-around (linear: before the shift). */
  maxAbs: number;
  /** Magnitude bits used: ceil(log2(maxAbs + 1)). */
  bits: number;
  /** 31 - bits: how many more bits fit in the signed 32-bit ring (negative = overflow). */
  headroomBits: number;
}

/**
 * Runs the same computation without wrap-around (float64) and reports the
 * largest magnitude per layer. Where every headroom is >= 0, evaluateFixed's
 * ring result equals this one (no value left the int32 range).
 */
export function traceRanges(
  model: ModelExport,
  weights: Int32Array,
  images: Uint8Array,
  count: number,
): LayerRange[] {
  const max = new Float64Array(model.layers.length);
  run(model, weights, images, count, {
    ring: false,
    onLayer: (i, m) => {
      if (m > max[i]) max[i] = m;
    },
  });
  return model.layers.map((l, i) => {
    const bits = Math.ceil(Math.log2(max[i] + 1));
    return { index: i, name: l.name, kind: l.kind, maxAbs: max[i], bits, headroomBits: 31 - bits };
  });
}

/** Index of the largest value in each row of a count x classes matrix (first on ties). */
export function argmaxRows(logits: ArrayLike<number>, classes: number): Int32Array {
  const count = Math.floor(logits.length / classes);
  const out = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    let best = 0;
    for (let k = 1; k < classes; k++) {
      if (logits[n * classes + k] > logits[n * classes + best]) best = k;
    }
    out[n] = best;
  }
  return out;
}

/** Fraction of predictions equal to labels (0..1). */
export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predictions.length !== labels.length) {
    throw new Error(`accuracy: ${predictions.length} predictions but ${labels.length} labels`);
  }
  if (labels.length === 0) return 0;
  let ok = 0;
  for (let k = 0; k < labels.length; k++) if (predictions[k] === labels[k]) ok++;
  return ok / labels.length;
}

/** Fraction of rows whose argmax agrees between two count x classes matrices. */
export function argmaxAgreement(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  classes: number,
): number {
  return accuracy(argmaxRows(a, classes), argmaxRows(b, classes));
}
