import type * as tf from "@tensorflow/tfjs";
import type { KernelArgs } from "./util";

/**
 * The shape to hand wasm's binary kernel for `s` against `other`: a per-channel operand
 * written [1, ..., 1, C] becomes [C] when `other` has at least its rank (same broadcast
 * result). wasm runs [C] on a fast path and [1, 1, 1, C] about 2.5x slower; the batch-norm
 * gradient multiplies by [1, 1, 1, C] tensors. Otherwise `s` is returned unchanged.
 */
export function squeezeLeadingOnes(s: readonly number[], other: readonly number[]): number[] {
  if (s.length < 2 || other.length < s.length) return [...s];
  for (let i = 0; i < s.length - 1; i++) if (s[i] !== 1) return [...s];
  return [s[s.length - 1]!];
}

/** Wrap a wasm binary kernel (Multiply, Add, Sub, RealDiv) with {@link squeezeLeadingOnes}. */
export function makeBinaryConfig(kernelName: string, original: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName,
    backendName: "wasm",
    kernelFunc: (args: KernelArgs) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      let sa = squeezeLeadingOnes(a.shape, b.shape);
      const sb = squeezeLeadingOnes(b.shape, a.shape);
      // Squeeze one operand only: both squeezed ([1, C] - [1, 1], batch 1) would drop the
      // output's rank ([C] - [1] is [C], not [1, C]).
      if (sb.length !== b.shape.length) sa = [...a.shape];
      if (sa.length === a.shape.length && sb.length === b.shape.length)
        return original.kernelFunc(args);
      return original.kernelFunc({
        ...args,
        inputs: { a: { ...a, shape: sa }, b: { ...b, shape: sb } },
      });
    },
  };
}
