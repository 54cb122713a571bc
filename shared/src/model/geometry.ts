import type { Padding, Shape3 } from "./types";

/**
 * TensorFlow "same" padding along one axis: total = max((ceil(in/s)-1)*s + k - in, 0),
 * with the extra one (when total is odd) at the end (bottom/right).
 */
export function samePadding(inSize: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kernel - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Explicit padding for a "same" / "valid" convolution over an [h, w] input. */
export function resolvePadding(
  mode: "same" | "valid",
  inH: number,
  inW: number,
  kernel: [number, number],
  strides: [number, number],
): Padding {
  if (mode === "valid") return { top: 0, bottom: 0, left: 0, right: 0 };
  const [top, bottom] = samePadding(inH, kernel[0], strides[0]);
  const [left, right] = samePadding(inW, kernel[1], strides[1]);
  return { top, bottom, left, right };
}

/** Output size of a window op along one axis: floor((in + before + after - k) / s) + 1. */
export function windowOutSize(
  inSize: number,
  kernel: number,
  stride: number,
  before = 0,
  after = 0,
): number {
  return Math.floor((inSize + before + after - kernel) / stride) + 1;
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeEquals(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function formatShape(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}

/** Output [h, w, c] of a conv/depthwise window with explicit padding. */
export function convOutShape(
  inShape: Shape3,
  kernel: [number, number],
  strides: [number, number],
  pad: Padding,
  outC: number,
): Shape3 {
  return [
    windowOutSize(inShape[0], kernel[0], strides[0], pad.top, pad.bottom),
    windowOutSize(inShape[1], kernel[1], strides[1], pad.left, pad.right),
    outC,
  ];
}
