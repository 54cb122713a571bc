/**
 * Ring convolutions over Z_2^32 on NHWC Uint32Array tensors (batch first),
 * with zero padding. All arithmetic wraps mod 2^32 exactly (Math.imul, `| 0`).
 *
 * - {@link conv2dU32}: weights [kh, kw, inC, outC], output [batch, oh, ow, outC].
 * - {@link depthwise2dU32}: weights [kh, kw, C, 1], output [batch, oh, ow, C].
 * - {@link pointwiseU32}: 1x1 conv, a GEMM (batch*h*w, inC) . (inC, outC).
 */
import type { Padding, Shape3 } from "@cbnn/shared";
import { matmulU32 } from "./gemm";

function checkPositiveInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
  }
}

function checkPadding(padding: Padding, what: string): void {
  for (const side of ["top", "bottom", "left", "right"] as const) {
    const p = padding[side];
    if (!Number.isInteger(p) || p < 0) {
      throw new RangeError(`${what}: padding.${side} must be a non-negative integer, got ${p}`);
    }
  }
}

/**
 * Output spatial size of a convolution or pooling window:
 * oh = floor((h + top + bottom - kh) / sh) + 1 (likewise for the width).
 * Throws when the padded input is smaller than the kernel.
 */
export function convOutShape(
  inShape: Shape3 | [number, number, number],
  kernel: [number, number],
  strides: [number, number],
  padding: Padding,
): [number, number] {
  const [h, w] = inShape;
  const [kh, kw] = kernel;
  const [sh, sw] = strides;
  checkPositiveInt(h, "convOutShape: inShape[0] (height)");
  checkPositiveInt(w, "convOutShape: inShape[1] (width)");
  checkPositiveInt(kh, "convOutShape: kernel[0]");
  checkPositiveInt(kw, "convOutShape: kernel[1]");
  checkPositiveInt(sh, "convOutShape: strides[0]");
  checkPositiveInt(sw, "convOutShape: strides[1]");
  checkPadding(padding, "convOutShape");
  const ph = h + padding.top + padding.bottom;
  const pw = w + padding.left + padding.right;
  if (ph < kh || pw < kw) {
    throw new RangeError(
      `convOutShape: kernel ${kh}x${kw} larger than padded input ${ph}x${pw} (input ${h}x${w})`,
    );
  }
  return [Math.floor((ph - kh) / sh) + 1, Math.floor((pw - kw) / sw) + 1];
}

function checkLength(buf: Uint32Array, need: number, what: string): void {
  if (buf.length < need) {
    throw new RangeError(`${what} has ${buf.length} elements, needs at least ${need}`);
  }
}

/**
 * im2col: gathers every receptive field of `x` into one row of `cols`, so that
 * conv2d becomes cols[batch*oh*ow, kh*kw*inC] . w[kh*kw*inC, outC]. Padded
 * positions are written as 0. Row order matches the NHWC output; column order
 * (ky, kx, c) matches the weight layout [kh, kw, inC, outC].
 */
export function im2colU32(
  x: Uint32Array,
  batch: number,
  inShape: Shape3 | [number, number, number],
  kernel: [number, number],
  strides: [number, number],
  padding: Padding,
  out?: Uint32Array,
): Uint32Array {
  const geo = convGeometry(x, batch, inShape, kernel, strides, padding, "im2col");
  const rows = batch * geo.oh * geo.ow;
  const cols = out ?? new Uint32Array(rows * geo.rowLen);
  checkLength(cols, rows * geo.rowLen, "im2col: out");
  im2colRows(x, geo, 0, rows, cols);
  return cols;
}

interface ConvGeometry {
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  oh: number;
  ow: number;
  padTop: number;
  padLeft: number;
  /** kh * kw * c: the length of one im2col row. */
  rowLen: number;
}

function convGeometry(
  x: Uint32Array,
  batch: number,
  inShape: Shape3 | [number, number, number],
  kernel: [number, number],
  strides: [number, number],
  padding: Padding,
  what: string,
): ConvGeometry {
  const [h, w, c] = inShape;
  const [kh, kw] = kernel;
  const [oh, ow] = convOutShape(inShape, kernel, strides, padding);
  checkPositiveInt(batch, `${what}: batch`);
  checkPositiveInt(c, `${what}: inShape[2] (channels)`);
  checkLength(x, batch * h * w * c, `${what}: x`);
  return {
    h,
    w,
    c,
    kh,
    kw,
    sh: strides[0],
    sw: strides[1],
    oh,
    ow,
    padTop: padding.top,
    padLeft: padding.left,
    rowLen: kh * kw * c,
  };
}

/** Writes im2col rows [r0, r1) (output positions in NHWC order) to cols[0..]. */
function im2colRows(
  x: Uint32Array,
  g: ConvGeometry,
  r0: number,
  r1: number,
  cols: Uint32Array,
): void {
  const { h, w, c, kh, kw, sh, sw, oh, ow, rowLen } = g;
  const segLen = kw * c;
  let dstRow = 0;
  for (let r = r0; r < r1; r++, dstRow += rowLen) {
    const ox = r % ow;
    const q = (r - ox) / ow;
    const oy = q % oh;
    const b = (q - oy) / oh;
    const xb = b * h * w * c;
    const y0 = oy * sh - g.padTop;
    const x0 = ox * sw - g.padLeft;
    // Columns of the window that fall inside the image: kx in [kx0, kx1).
    const kx0 = x0 < 0 ? -x0 : 0;
    const kx1 = x0 + kw > w ? w - x0 : kw;
    for (let ky = 0; ky < kh; ky++) {
      const iy = y0 + ky;
      const dst = dstRow + ky * segLen;
      if (iy < 0 || iy >= h || kx1 <= kx0) {
        cols.fill(0, dst, dst + segLen);
        continue;
      }
      if (kx0 > 0) cols.fill(0, dst, dst + kx0 * c);
      const src = xb + (iy * w + x0 + kx0) * c;
      cols.set(x.subarray(src, src + (kx1 - kx0) * c), dst + kx0 * c);
      if (kx1 < kw) cols.fill(0, dst + kx1 * c, dst + segLen);
    }
  }
}

/** im2col is done in chunks of about this many elements (1 MiB), not all at once. */
const IM2COL_CHUNK = 1 << 18;

/**
 * 2-D convolution over Z_2^32: x NHWC [batch, h, w, inC], w [kh, kw, inC, outC],
 * zero padding, output NHWC [batch, oh, ow, outC] (see {@link convOutShape}).
 * Computed as im2col + {@link matmulU32}.
 */
export function conv2dU32(
  x: Uint32Array,
  batch: number,
  inShape: Shape3 | [number, number, number],
  w: Uint32Array,
  kernel: [number, number],
  outC: number,
  strides: [number, number],
  padding: Padding,
  out?: Uint32Array,
): Uint32Array {
  checkPositiveInt(outC, "conv2d: outC");
  const g = convGeometry(x, batch, inShape, kernel, strides, padding, "conv2d");
  checkLength(w, g.rowLen * outC, "conv2d: weights");
  const rows = batch * g.oh * g.ow;
  const result = out ?? new Uint32Array(rows * outC);
  checkLength(result, rows * outC, "conv2d: out");
  if (g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && isZero(padding)) {
    return pointwiseU32(x, batch, inShape, w, outC, result);
  }
  // im2col + GEMM over chunks of output rows, so the column buffer stays in
  // cache and memory stays small (a whole-batch im2col can be ~100 MB).
  const chunkRows = Math.max(8, Math.floor(IM2COL_CHUNK / g.rowLen / 8) * 8);
  const cols = new Uint32Array(Math.min(rows, chunkRows) * g.rowLen);
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const r1 = Math.min(rows, r0 + chunkRows);
    im2colRows(x, g, r0, r1, cols);
    matmulU32(cols, w, r1 - r0, g.rowLen, outC, result.subarray(r0 * outC, r1 * outC));
  }
  return result;
}

function isZero(p: Padding): boolean {
  return p.top === 0 && p.bottom === 0 && p.left === 0 && p.right === 0;
}

/**
 * Depthwise 2-D convolution over Z_2^32: each channel is convolved with its
 * own kh x kw filter. x NHWC [batch, h, w, C], w [kh, kw, C, 1],
 * output [batch, oh, ow, C].
 */
export function depthwise2dU32(
  x: Uint32Array,
  batch: number,
  inShape: Shape3 | [number, number, number],
  w: Uint32Array,
  kernel: [number, number],
  strides: [number, number],
  padding: Padding,
  out?: Uint32Array,
): Uint32Array {
  const [h, wd, c] = inShape;
  const [kh, kw] = kernel;
  const [sh, sw] = strides;
  const [oh, ow] = convOutShape(inShape, kernel, strides, padding);
  checkPositiveInt(batch, "depthwise2d: batch");
  checkPositiveInt(c, "depthwise2d: inShape[2] (channels)");
  checkLength(x, batch * h * wd * c, "depthwise2d: x");
  checkLength(w, kh * kw * c, "depthwise2d: weights");
  const result = out ?? new Uint32Array(batch * oh * ow * c);
  checkLength(result, batch * oh * ow * c, "depthwise2d: out");
  // Output rows are accumulated in place through an Int32Array view. For each
  // filter tap (ky, kx) the valid output columns [ox0, ox1) read input pixels
  // ox * sw + kx - left; with stride 1 these are one contiguous run of
  // (ox1 - ox0) * C values, multiplied by the tap's C weights tiled along the
  // row (wRow), so the inner loop is long and contiguous.
  const X = new Int32Array(x.buffer, x.byteOffset, batch * h * wd * c);
  const O = new Int32Array(result.buffer, result.byteOffset, batch * oh * ow * c);
  O.fill(0);
  const rowLen = ow * c;
  const wRow = new Int32Array(kh * kw * rowLen);
  for (let tap = 0; tap < kh * kw; tap++) {
    for (let j = 0; j < rowLen; j++) wRow[tap * rowLen + j] = w[tap * c + (j % c)] | 0;
  }
  for (let b = 0; b < batch; b++) {
    const xb = b * h * wd * c;
    for (let oy = 0; oy < oh; oy++) {
      const o = (b * oh + oy) * rowLen;
      const y0 = oy * sh - padding.top;
      for (let ky = 0; ky < kh; ky++) {
        const iy = y0 + ky;
        if (iy < 0 || iy >= h) continue;
        for (let kx = 0; kx < kw; kx++) {
          // Valid ox: 0 <= ox * sw + kx - left < wd.
          const lo = padding.left - kx;
          const ox0 = lo <= 0 ? 0 : Math.ceil(lo / sw);
          const ox1 = Math.min(ow, Math.floor((wd - 1 + padding.left - kx) / sw) + 1);
          if (ox1 <= ox0) continue;
          const wr = (ky * kw + kx) * rowLen;
          const xr = xb + (iy * wd + ox0 * sw + kx - padding.left) * c;
          if (sw === 1) {
            const len = (ox1 - ox0) * c;
            const oo = o + ox0 * c;
            const ww = wr + ox0 * c;
            for (let j = 0; j < len; j++) {
              O[oo + j] = (O[oo + j] + Math.imul(X[xr + j], wRow[ww + j])) | 0;
            }
          } else {
            for (let ox = ox0; ox < ox1; ox++) {
              const oo = o + ox * c;
              const xi = xr + (ox - ox0) * sw * c;
              for (let ch = 0; ch < c; ch++) {
                O[oo + ch] = (O[oo + ch] + Math.imul(X[xi + ch], wRow[wr + ch])) | 0;
              }
            }
          }
        }
      }
    }
  }
  return result;
}

/**
 * Pointwise (1x1, stride 1, no padding) convolution over Z_2^32: a GEMM
 * x[batch*h*w, inC] . w[inC, outC], output NHWC [batch, h, w, outC].
 */
export function pointwiseU32(
  x: Uint32Array,
  batch: number,
  inShape: Shape3 | [number, number, number],
  w: Uint32Array,
  outC: number,
  out?: Uint32Array,
): Uint32Array {
  const [h, wd, c] = inShape;
  checkPositiveInt(batch, "pointwise: batch");
  checkPositiveInt(h, "pointwise: inShape[0] (height)");
  checkPositiveInt(wd, "pointwise: inShape[1] (width)");
  checkPositiveInt(c, "pointwise: inShape[2] (channels)");
  checkPositiveInt(outC, "pointwise: outC");
  const rows = batch * h * wd;
  checkLength(x, rows * c, "pointwise: x");
  checkLength(w, c * outC, "pointwise: weights");
  const result = out ?? new Uint32Array(rows * outC);
  checkLength(result, rows * outC, "pointwise: out");
  return matmulU32(x, w, rows, c, outC, result);
}
