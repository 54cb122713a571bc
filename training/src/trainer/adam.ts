import * as tf from "@tensorflow/tfjs";
import { packFloat32, unpackFloat32 } from "./float32-blob";

/**
 * Adam (Kingma & Ba) with its whole state in the open: first and second
 * moments per variable and the step count. tfjs's own AdamOptimizer keeps
 * beta^t as a running float32 product that `setWeights` rebuilds with `pow`,
 * so a restored optimizer drifts from an uninterrupted one in the last bits;
 * here the bias correction is recomputed in float64 from the step count,
 * which makes a resumed run bit-identical.
 *
 * Optional decoupled weight decay (AdamW, Loshchilov & Hutter): after the Adam
 * step each decayed variable also loses `lr * weightDecay` of its value (the
 * PyTorch convention: the decay follows the learning-rate schedule). It needs
 * no optimizer state, so checkpoints are unchanged.
 */
export interface AdamConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay per unit learning rate; 0 = plain Adam. */
  weightDecay: number;
  /**
   * Which variables decay (`decay[i]` for `vars[i]`); default: all of them.
   * The trainer decays kernels only, not biases or batch-norm scales and shifts.
   */
  decay?: boolean[];
}

export const DEFAULT_ADAM: AdamConfig = {
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
  weightDecay: 0,
};

export interface AdamStateData {
  step: number;
  /** Per variable: m then v, float32, in variable order. */
  moments: { shape: number[]; m: Float32Array; v: Float32Array }[];
}

export class Adam {
  readonly config: AdamConfig;
  step = 0;
  private m: tf.Variable[];
  private v: tf.Variable[];

  constructor(
    private readonly vars: tf.Variable[],
    config: Partial<AdamConfig> = {},
  ) {
    this.config = { ...DEFAULT_ADAM, ...config };
    const { weightDecay, decay } = this.config;
    if (!(weightDecay >= 0) || !Number.isFinite(weightDecay)) {
      throw new Error(`weight decay must be >= 0, got ${weightDecay}`);
    }
    if (decay && decay.length !== vars.length) {
      throw new Error(`Adam: decay mask has ${decay.length} entries for ${vars.length} variables`);
    }
    this.m = vars.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = vars.map((x) => tf.variable(tf.zerosLike(x), false));
  }

  /** Applies one update with learning rate `lr`; `grads[i]` belongs to `vars[i]`. */
  apply(grads: tf.Tensor[], lr: number): void {
    if (grads.length !== this.vars.length) {
      throw new Error(`Adam.apply: ${grads.length} gradients for ${this.vars.length} variables`);
    }
    this.step += 1;
    const { beta1, beta2, epsilon, weightDecay, decay } = this.config;
    // Bias-corrected step size, computed in float64.
    const lrT = (lr * Math.sqrt(1 - beta2 ** this.step)) / (1 - beta1 ** this.step);
    tf.tidy(() => {
      for (let i = 0; i < this.vars.length; i++) {
        const g = grads[i];
        const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const upd = tf.div(
          tf.mul(m, lrT),
          tf.add(tf.sqrt(v), epsilon * Math.sqrt(1 - beta2 ** this.step)),
        );
        const w = this.vars[i];
        // decoupled decay uses the weights before this step (as AdamW does)
        const decayed =
          weightDecay > 0 && (decay?.[i] ?? true) ? tf.sub(w, tf.mul(w, lr * weightDecay)) : w;
        w.assign(tf.sub(decayed, upd));
      }
    });
  }

  getState(): AdamStateData {
    return {
      step: this.step,
      moments: this.vars.map((x, i) => ({
        shape: x.shape,
        m: this.m[i].dataSync() as Float32Array,
        v: this.v[i].dataSync() as Float32Array,
      })),
    };
  }

  setState(state: AdamStateData): void {
    if (state.moments.length !== this.vars.length) {
      throw new Error(
        `optimizer state holds ${state.moments.length} variables, the model has ${this.vars.length}`,
      );
    }
    state.moments.forEach((mo, i) => {
      const want = this.vars[i].shape;
      if (want.length !== mo.shape.length || want.some((d, k) => d !== mo.shape[k])) {
        throw new Error(
          `optimizer state variable ${i} has shape [${mo.shape}], model expects [${want}]`,
        );
      }
      this.m[i].assign(tf.tensor(mo.m, want, "float32"));
      this.v[i].assign(tf.tensor(mo.v, want, "float32"));
    });
    this.step = state.step;
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/** Serialises Adam state as a small JSON header + one float32 blob. */
export function encodeAdamState(state: AdamStateData): { json: AdamStateJson; bin: Uint8Array } {
  return {
    json: { kind: "adam", step: state.step, shapes: state.moments.map((m) => m.shape) },
    bin: packFloat32(state.moments.flatMap((mo) => [mo.m, mo.v])),
  };
}

export interface AdamStateJson {
  kind: "adam";
  step: number;
  shapes: number[][];
}

export function decodeAdamState(
  json: AdamStateJson,
  bin: Uint8Array,
  where: string,
): AdamStateData {
  if (json.kind !== "adam") throw new Error(`${where}: optimizer kind ${json.kind}, expected adam`);
  const sizes = json.shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const parts = unpackFloat32(
    bin,
    sizes.flatMap((n) => [n, n]),
    where,
  );
  const moments = json.shapes.map((shape, i) => ({
    shape,
    m: parts[2 * i]!,
    v: parts[2 * i + 1]!,
  }));
  return { step: json.step, moments };
}
