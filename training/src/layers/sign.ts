/**
 * Sign activation with a straight-through estimator (Courbariaux et al. 2016),
 * the students' binarising activation (paper 2.1, 3.1).
 *
 * Forward: x >= 0 -> +1, else -1 (note tf.sign(0) = 0, so it is not used).
 * Backward: dy passes where |x| <= 1 and is 0 elsewhere (hard-tanh STE).
 *
 * Both are written with float ops only (Step, Neg, Abs, Sub, Mul): on the wasm backend
 * the comparisons (GreaterEqual, LessEqual) and the bool -> float Cast run about 10x
 * slower than a float op over the same tensor (docs/backend.md).
 */
import * as tf from "@tensorflow/tfjs";
import type { GradSaveFunc } from "@tensorflow/tfjs-core";

type Kwargs = Record<string, unknown>;

/**
 * Forward value of the float Sign: +1 where x >= 0, -1 elsewhere:
 * -step(-x, -1), as step(z, a) = z > 0 ? 1 : a. (NaN stays NaN on cpu; no use here.)
 */
export function signForward(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.neg(tf.step(tf.neg(x), -1)));
}

/** The STE's pass mask: 1 where |x| <= 1, else 0, as 1 - step(|x| - 1) (|x| - 1 is exact near 1). */
export function steMask(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(1, tf.step(tf.sub(tf.abs(x), 1))));
}

/**
 * The backward pass of the Sign: "ste" passes dy where |x| <= 1 (hard-tanh STE,
 * Courbariaux et al. 2016, the default); "approx" scales it by 2 - 2|x| there
 * (the derivative of Bi-Real Net's ApproxSign, Liu et al. 2018: a piecewise
 * quadratic closer to sign than hard-tanh). The forward pass is the same.
 */
export type SignGrad = "ste" | "approx";
export const SIGN_GRADS: readonly SignGrad[] = ["ste", "approx"];

/** ApproxSign's derivative: max(0, 2 - 2|x|) (0 for |x| >= 1). */
export function approxSignGrad(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.relu(tf.sub(2, tf.mul(2, tf.abs(x)))));
}

/** The Sign as a differentiable op whose backward pass is dy * scale(x). */
function signWithGrad(scale: (x: tf.Tensor) => tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: Array<tf.Tensor | GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as GradSaveFunc;
    save([x]);
    return {
      value: signForward(x),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, scale(saved[0]!)),
    };
  });
}

/** Sign with the straight-through estimator as a differentiable op. */
export const signSTE: (x: tf.Tensor) => tf.Tensor = signWithGrad(steMask);

/** Sign with ApproxSign's gradient ({@link approxSignGrad}) as a differentiable op. */
export const signApprox: (x: tf.Tensor) => tf.Tensor = signWithGrad(approxSignGrad);

/**
 * Keras-style layer wrapping {@link signSTE} (or {@link signApprox} with
 * signGrad "approx"); registered for save/load. The class name stays "SignSTE"
 * so that every saved checkpoint loads; signGrad is saved only when not "ste".
 */
export class SignSTE extends tf.layers.Layer {
  static className = "SignSTE";
  readonly signGrad: SignGrad;

  constructor(args?: { name?: string; trainable?: boolean; signGrad?: SignGrad }) {
    const { signGrad, ...rest } = args ?? {};
    super(rest);
    if (signGrad !== undefined && !SIGN_GRADS.includes(signGrad))
      throw new Error(`SignSTE: unknown signGrad "${signGrad as string}" (ste or approx)`);
    this.signGrad = signGrad ?? "ste";
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return this.signGrad === "approx" ? signApprox(x) : signSTE(x);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const base = super.getConfig();
    return this.signGrad === "ste" ? base : { ...base, signGrad: this.signGrad };
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }
}
