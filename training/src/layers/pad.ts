/**
 * Explicit constant padding of an NHWC tensor. Convolutions reading Sign
 * outputs pad with -1 (the bit 0 of the exported model, see docs/export-format.md):
 * a ConstantPad2D followed by a "valid" convolution.
 */
import * as tf from "@tensorflow/tfjs";

type Kwargs = Record<string, unknown>;

/** [[top, bottom], [left, right]]. */
export type Pad2D = [[number, number], [number, number]];

export interface ConstantPad2DArgs {
  padding: Pad2D;
  value: number;
  name?: string;
}

/**
 * TensorFlow's "same" padding for one spatial axis:
 * total = max((ceil(in/s) - 1) * s + k - in, 0), before = floor(total/2), rest after.
 */
export function samePadding(inSize: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kernel - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

export class ConstantPad2D extends tf.layers.Layer {
  static className = "ConstantPad2D";
  readonly padding: Pad2D;
  readonly value: number;

  constructor(args: ConstantPad2DArgs) {
    super({ name: args.name });
    const p = args.padding;
    const ok =
      Array.isArray(p) &&
      p.length === 2 &&
      p.every(
        (a) => Array.isArray(a) && a.length === 2 && a.every((v) => Number.isInteger(v) && v >= 0),
      );
    if (!ok)
      throw new Error(
        `ConstantPad2D: padding must be [[top, bottom], [left, right]] of non-negative integers`,
      );
    if (!Number.isFinite(args.value))
      throw new Error("ConstantPad2D: value must be a finite number");
    this.padding = [
      [p[0][0], p[0][1]],
      [p[1][0], p[1][1]],
    ];
    this.value = args.value;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (s.length !== 4)
      throw new Error(`ConstantPad2D: expected a 4D NHWC input, got rank ${s.length}`);
    const [[t, b], [l, r]] = this.padding;
    return [s[0], s[1] == null ? null : s[1] + t + b, s[2] == null ? null : s[2] + l + r, s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const [[t, b], [l, r]] = this.padding;
    return tf.pad(
      x,
      [
        [0, 0],
        [t, b],
        [l, r],
        [0, 0],
      ],
      this.value,
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      padding: this.padding,
      value: this.value,
    };
  }
}
