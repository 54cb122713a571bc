import type { FloatLayer, FloatModel, FloatShape3 } from "../export/float-model";
import { ExportFormatError } from "../model/errors";
import { resolvePadding, shapeSize, windowOutSize } from "../model/geometry";
import type { Padding } from "../model/types";

/** Input and output shape of every float layer, validated against weight sizes. */
export interface FloatLayerShapes {
  inShape: FloatShape3;
  outShape: FloatShape3;
  /** Explicit padding for conv2d / depthwise2d (zeros otherwise). */
  pad: Padding;
}

const NO_PAD: Padding = { top: 0, bottom: 0, left: 0, right: 0 };

function positiveInt(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v > 0;
}

/**
 * Walks the float model, checks every tensor size against the running shape
 * and returns the per-layer shapes. Throws {@link ExportFormatError} naming
 * `float.layers[i].<field>`.
 */
export function floatModelShapes(model: FloatModel): FloatLayerShapes[] {
  const shape = model.input.shape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every(positiveInt)) {
    throw new ExportFormatError("float.input.shape", "must be [h, w, c] of positive integers");
  }
  const c0 = shape[2];
  const { mean, std } = model.normalisation;
  if (mean.length !== c0 || std.length !== c0) {
    throw new ExportFormatError(
      "float.normalisation",
      `mean and std need one entry per input channel (${c0})`,
    );
  }
  if (!std.every((s) => Number.isFinite(s) && s > 0)) {
    throw new ExportFormatError("float.normalisation.std", "must be finite and > 0");
  }
  if (model.classes.length < 1) throw new ExportFormatError("float.classes", "must not be empty");
  let cur: FloatShape3 = [shape[0], shape[1], shape[2]];
  const out: FloatLayerShapes[] = [];
  model.layers.forEach((l, i) => {
    const f = (field: string) => `float.layers[${i}] (${l.name}).${field}`;
    const [h, w, c] = cur;
    let next: FloatShape3 = cur;
    let pad = NO_PAD;
    const checkBias = (b: Float32Array | undefined, n: number) => {
      if (b !== undefined && b.length !== n) {
        throw new ExportFormatError(f("bias"), `has ${b.length} values, expected ${n}`);
      }
    };
    switch (l.kind) {
      case "conv2d":
      case "depthwise2d": {
        if (!positiveInt(l.kernel[0]) || !positiveInt(l.kernel[1])) {
          throw new ExportFormatError(f("kernel"), "must be positive integers");
        }
        if (!positiveInt(l.strides[0]) || !positiveInt(l.strides[1])) {
          throw new ExportFormatError(f("strides"), "must be positive integers");
        }
        const taps = l.kernel[0] * l.kernel[1];
        let outC: number;
        if (l.kind === "conv2d") {
          outC = l.weights.length / (taps * c);
          if (!Number.isInteger(outC) || outC < 1) {
            throw new ExportFormatError(
              f("weights"),
              `${l.weights.length} values do not fit [${l.kernel[0]}, ${l.kernel[1]}, ${c}, outC]`,
            );
          }
        } else {
          outC = c;
          if (l.weights.length !== taps * c) {
            throw new ExportFormatError(
              f("weights"),
              `has ${l.weights.length} values, expected ${taps * c} ([${l.kernel[0]}, ${l.kernel[1]}, ${c}, 1])`,
            );
          }
        }
        checkBias(l.bias, outC);
        pad = resolvePadding(l.padding, h, w, l.kernel, l.strides);
        const oh = windowOutSize(h, l.kernel[0], l.strides[0], pad.top, pad.bottom);
        const ow = windowOutSize(w, l.kernel[1], l.strides[1], pad.left, pad.right);
        if (oh < 1 || ow < 1) {
          throw new ExportFormatError(f("kernel"), `larger than the padded input [${h}, ${w}]`);
        }
        if (!Number.isFinite(l.padValue)) {
          throw new ExportFormatError(f("padValue"), "must be a finite number");
        }
        next = [oh, ow, outC];
        break;
      }
      case "pointwise2d": {
        const outC = l.weights.length / c;
        if (!Number.isInteger(outC) || outC < 1) {
          throw new ExportFormatError(
            f("weights"),
            `${l.weights.length} values do not fit [${c}, outC]`,
          );
        }
        checkBias(l.bias, outC);
        next = [h, w, outC];
        break;
      }
      case "dense": {
        const n = h * w * c;
        const outN = l.weights.length / n;
        if (!Number.isInteger(outN) || outN < 1) {
          throw new ExportFormatError(
            f("weights"),
            `${l.weights.length} values do not fit [${n}, out]`,
          );
        }
        checkBias(l.bias, outN);
        next = [1, 1, outN];
        break;
      }
      case "batchnorm": {
        for (const k of ["gamma", "beta", "mean", "variance"] as const) {
          if (l[k].length !== c) {
            throw new ExportFormatError(
              f(k),
              `has ${l[k].length} values, expected ${c} (channels)`,
            );
          }
        }
        if (!(l.epsilon >= 0)) throw new ExportFormatError(f("epsilon"), "must be >= 0");
        break;
      }
      case "maxpool": {
        const oh = windowOutSize(h, l.pool[0], l.strides[0]);
        const ow = windowOutSize(w, l.pool[1], l.strides[1]);
        if (!positiveInt(l.pool[0]) || !positiveInt(l.pool[1]) || oh < 1 || ow < 1) {
          throw new ExportFormatError(f("pool"), `does not fit the input [${h}, ${w}]`);
        }
        if (!positiveInt(l.strides[0]) || !positiveInt(l.strides[1])) {
          throw new ExportFormatError(f("strides"), "must be positive integers");
        }
        next = [oh, ow, c];
        break;
      }
      case "flatten":
        next = [1, 1, h * w * c];
        break;
      case "sign":
      case "relu":
        break;
      default: {
        const k: never = l;
        throw new ExportFormatError(`float.layers[${i}].kind`, `unknown kind ${JSON.stringify(k)}`);
      }
    }
    out.push({ inShape: cur, outShape: next, pad });
    cur = next;
  });
  if (cur[0] !== 1 || cur[1] !== 1 || cur[2] !== model.classes.length) {
    throw new ExportFormatError(
      "float.layers",
      `the last layer outputs [${cur.join(", ")}], expected [1, 1, ${model.classes.length}] (one logit per class)`,
    );
  }
  return out;
}

export function applyLayer(l: FloatLayer, s: FloatLayerShapes, x: Float64Array): Float64Array {
  const [h, w, c] = s.inShape;
  const [oh, ow, oc] = s.outShape;
  switch (l.kind) {
    case "conv2d":
    case "depthwise2d": {
      const y = new Float64Array(oh * ow * oc);
      const [kh, kw] = l.kernel;
      const [sh, sw] = l.strides;
      const dw = l.kind === "depthwise2d";
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const base = (i * ow + j) * oc;
          for (let o = 0; o < oc; o++) y[base + o] = l.bias ? l.bias[o] : 0;
          for (let a = 0; a < kh; a++) {
            const ii = i * sh + a - s.pad.top;
            for (let b = 0; b < kw; b++) {
              const jj = j * sw + b - s.pad.left;
              const inside = ii >= 0 && ii < h && jj >= 0 && jj < w;
              for (let ci = 0; ci < c; ci++) {
                const v = inside ? x[(ii * w + jj) * c + ci] : l.padValue;
                if (dw) {
                  y[base + ci] += v * l.weights[(a * kw + b) * c + ci];
                } else {
                  const wb = ((a * kw + b) * c + ci) * oc;
                  for (let o = 0; o < oc; o++) y[base + o] += v * l.weights[wb + o];
                }
              }
            }
          }
        }
      }
      return y;
    }
    case "pointwise2d": {
      const y = new Float64Array(h * w * oc);
      for (let p = 0; p < h * w; p++) {
        for (let o = 0; o < oc; o++) {
          let acc = l.bias ? l.bias[o] : 0;
          for (let ci = 0; ci < c; ci++) acc += x[p * c + ci] * l.weights[ci * oc + o];
          y[p * oc + o] = acc;
        }
      }
      return y;
    }
    case "dense": {
      const n = h * w * c;
      const y = new Float64Array(oc);
      for (let o = 0; o < oc; o++) {
        let acc = l.bias ? l.bias[o] : 0;
        for (let k = 0; k < n; k++) acc += x[k] * l.weights[k * oc + o];
        y[o] = acc;
      }
      return y;
    }
    case "batchnorm": {
      const y = new Float64Array(x.length);
      for (let k = 0; k < x.length; k++) {
        const ci = k % c;
        y[k] =
          (l.gamma[ci] * (x[k] - l.mean[ci])) / Math.sqrt(l.variance[ci] + l.epsilon) + l.beta[ci];
      }
      return y;
    }
    case "sign":
      return x.map((v) => (v >= 0 ? 1 : -1));
    case "relu":
      return x.map((v) => Math.max(v, 0));
    case "maxpool": {
      const y = new Float64Array(oh * ow * oc);
      const [ph, pw] = l.pool;
      const [sh, sw] = l.strides;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          for (let ci = 0; ci < c; ci++) {
            let m = Number.NEGATIVE_INFINITY;
            for (let a = 0; a < ph; a++) {
              for (let b = 0; b < pw; b++) {
                const v = x[((i * sh + a) * w + j * sw + b) * c + ci];
                if (v > m) m = v;
              }
            }
            y[(i * ow + j) * c + ci] = m;
          }
        }
      }
      return y;
    }
    case "flatten":
      return x;
  }
}

/**
 * Float forward pass in plain loops (float64 internally): normalises each
 * image's pixels, runs the layers, returns logits (count x classes).
 * `images` is NHWC uint8, count x h x w x c.
 */
export function evaluateFloat(model: FloatModel, images: Uint8Array, count: number): Float32Array {
  return evaluateFloatTraced(model, images, count);
}

/**
 * {@link evaluateFloat} that also hands every layer's float64 output to
 * `onOutput(image, layerIndex, out)` (indices into `model.layers`); `out` is
 * not modified afterwards, so it may be kept.
 */
export function evaluateFloatTraced(
  model: FloatModel,
  images: Uint8Array,
  count: number,
  onOutput?: (image: number, index: number, out: Float64Array) => void,
): Float32Array {
  const shapes = floatModelShapes(model);
  const inSize = shapeSize(model.input.shape);
  if (images.length < count * inSize) {
    throw new ExportFormatError(
      "images",
      `${images.length} bytes, expected ${count} x ${inSize} (NHWC uint8)`,
    );
  }
  const classes = model.classes.length;
  const c0 = model.input.shape[2];
  const { mean, std } = model.normalisation;
  const logits = new Float32Array(count * classes);
  for (let n = 0; n < count; n++) {
    let x: Float64Array = new Float64Array(inSize);
    for (let k = 0; k < inSize; k++) {
      const ci = k % c0;
      x[k] = (images[n * inSize + k] - mean[ci]) / std[ci];
    }
    model.layers.forEach((l, i) => {
      x = applyLayer(l, shapes[i], x);
      onOutput?.(n, i, x);
    });
    logits.set(x, n * classes);
  }
  return logits;
}
