import * as tf from "@tensorflow/tfjs";
import { asWasm, type KernelArgs } from "./util";

/** Window geometry of a 2-D max pool over an NHWC input. */
export interface PoolGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
}

export function poolGeometry(info: tf.backend_util.Conv2DInfo): PoolGeometry {
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    c: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    kh: info.effectiveFilterHeight,
    kw: info.effectiveFilterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * For each output position, call `visit(outIndex, argIndex, max)` with the flat NHWC index
 * of the window's first maximum in row-major scan order (padding excluded), the rule of
 * tfjs's cpu backend. A window whose maximum is negative still has an argmax. The channel
 * loop is innermost so that every read is contiguous.
 */
export function forEachWindowMax(
  x: ArrayLike<number>,
  g: PoolGeometry,
  visit: (outIndex: number, argIndex: number, max: number) => void,
): void {
  const best = new Float32Array(g.c);
  const arg = new Int32Array(g.c);
  let o = 0;
  for (let b = 0; b < g.n; b++) {
    const xb = b * g.h * g.w * g.c;
    for (let oh = 0; oh < g.outH; oh++) {
      const r0 = oh * g.sh - g.padTop;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(g.h, r0 + g.kh);
      for (let ow = 0; ow < g.outW; ow++) {
        const c0 = ow * g.sw - g.padLeft;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(g.w, c0 + g.kw);
        best.fill(Number.NEGATIVE_INFINITY);
        arg.fill(-1);
        for (let r = rMin; r < rMax; r++) {
          for (let col = cMin; col < cMax; col++) {
            const base = xb + (r * g.w + col) * g.c;
            for (let ch = 0; ch < g.c; ch++) {
              const v = x[base + ch]!;
              if (v > best[ch]!) {
                best[ch] = v;
                arg[ch] = base + ch;
              }
            }
          }
        }
        for (let ch = 0; ch < g.c; ch++, o++) visit(o, arg[ch]!, best[ch]!);
      }
    }
  }
}

/**
 * The same for windows that tile the input (stride = window, all windows inside it: every
 * zoo maxpool), without per-window buffers or callbacks; same rule (first maximum in scan
 * order, windows without a value > -infinity get none).
 */
export function maxPoolGradTiled(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  g: PoolGeometry,
  dx: Float32Array,
): void {
  dx.fill(0);
  const c = g.c;
  const offs: number[] = [];
  for (let r = 0; r < g.kh; r++) for (let q = 0; q < g.kw; q++) offs.push((r * g.w + q) * c);
  const taps = offs.length;
  let o = 0;
  for (let b = 0; b < g.n; b++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const base = ((b * g.h + oh * g.kh) * g.w + ow * g.kw) * c;
        for (let ch = 0; ch < c; ch++, o++) {
          let arg = -1;
          let best = Number.NEGATIVE_INFINITY;
          for (let t = 0; t < taps; t++) {
            const i = base + offs[t]! + ch;
            const v = x[i]!;
            if (v > best) {
              best = v;
              arg = i;
            }
          }
          if (arg >= 0) dx[arg]! += dy[o]!;
        }
      }
    }
  }
}

/** dx of max pooling: each window's gradient goes to its first maximum. */
export function maxPoolGradMath(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  g: PoolGeometry,
  dx: Float32Array,
): void {
  const tiles =
    g.sh === g.kh &&
    g.sw === g.kw &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.outH * g.kh <= g.h &&
    g.outW * g.kw <= g.w;
  if (tiles) maxPoolGradTiled(x, dy, g, dx);
  else maxPoolGradGeneral(x, dy, g, dx);
}

/** The general loop (any stride and padding). */
export function maxPoolGradGeneral(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  g: PoolGeometry,
  dx: Float32Array,
): void {
  dx.fill(0);
  forEachWindowMax(x, g, (o, arg) => {
    if (arg >= 0) dx[arg]! += dy[o]!;
  });
}

function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const a = attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const wasm = asWasm(backend);
  const out = wasm.makeOutput(input.shape, "float32");
  maxPoolGradMath(
    wasm.typedArrayFromHeap(input),
    wasm.typedArrayFromHeap(dy),
    poolGeometry(info),
    wasm.typedArrayFromHeap(out) as Float32Array,
  );
  return out;
}

/**
 * Replaces wasm's MaxPoolGrad: its running max starts at FLT_MIN, so windows whose maximum
 * is <= 0 send their gradient to the wrong input or nowhere.
 */
export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: "wasm",
  kernelFunc: maxPoolGrad,
};
