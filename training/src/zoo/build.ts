/**
 * Builds tfjs LayersModels from zoo configs. Students: conv -> BN -> Sign ->
 * (maxpool); a convolution whose input is a Sign output (directly or through a
 * maxpool) pads with -1 through an explicit ConstantPad2D + "valid" conv, so
 * the exported bit form pads with 0 (docs/export-format.md). Layers reading other values
 * (normalised pixels, ReLU outputs) pad with 0.
 *
 * Layer names are deterministic (`b<i>_<part>`) so checkpoints and the float
 * export can find them.
 */
import type * as tfjs from "@tensorflow/tfjs";
import {
  ConstantPad2D,
  type SignGrad,
  SignSTE,
  samePadding,
  useFusedBatchNormTraining,
} from "../layers";
import type {
  Activation,
  Block,
  ConvBlock,
  DenseBlock,
  ModelConfig,
  ResidualBlock,
} from "./config";

type TF = typeof tfjs;
type SymbolicTensor = tfjs.SymbolicTensor;
type Initializer = ReturnType<TF["initializers"]["glorotUniform"]>;

export interface BuildOptions {
  /** Seed for the weight initialisers (each layer derives its own). Unseeded when absent. */
  seed?: number;
  /** Width multiplier for every hidden layer's channels/units (default 1). The logits layer keeps `classes`. */
  width?: number;
  /** Backward pass of every Sign activation (layers/sign.ts): "ste" (default) or "approx". */
  signGrad?: SignGrad;
  /**
   * Put each block's maxpool before its activation instead of after it (default false).
   * Every activation here (Sign, ReLU, none) is monotone non-decreasing, so it commutes
   * with max: the forward pass is the same function. The backward pass is not: after a
   * Sign, a 2x2 window usually holds tied values, and max pooling's gradient goes to the
   * first of them in scan order; before it, to the largest pre-activation. A training
   * option only: checkpoints load (load.ts) and export in the usual order.
   */
  poolFirst?: boolean;
}

/** BN settings shared by all zoo models. */
export const BN_MOMENTUM = 0.9;
export const BN_EPSILON = 1e-5;

/** Scales a channel count by the width multiplier (at least 1). */
export function scaleWidth(n: number, width: number): number {
  return Math.max(1, Math.round(n * width));
}

class Builder {
  private seedCounter = 0;

  constructor(
    private readonly tf: TF,
    private readonly seed: number | undefined,
    private readonly signGrad: SignGrad = "ste",
    private readonly poolFirst = false,
  ) {}

  kernelInit(): Initializer {
    const seed = this.seed === undefined ? undefined : this.seed * 1000 + this.seedCounter++;
    return this.tf.initializers.glorotUniform({ seed });
  }

  heInit(): Initializer {
    const seed = this.seed === undefined ? undefined : this.seed * 1000 + this.seedCounter++;
    return this.tf.initializers.heNormal({ seed });
  }

  apply(layer: tfjs.layers.Layer, x: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
    return layer.apply(x) as SymbolicTensor;
  }

  /** BN whose training-mode pass is one fused op (layers/batch_norm.ts; same layer class). */
  bn(x: SymbolicTensor, name: string): SymbolicTensor {
    return this.apply(
      useFusedBatchNormTraining(
        this.tf.layers.batchNormalization({
          name,
          axis: -1,
          momentum: BN_MOMENTUM,
          epsilon: BN_EPSILON,
        }),
      ),
      x,
    );
  }

  activation(x: SymbolicTensor, act: Activation, name: string): SymbolicTensor {
    if (act === "sign") return this.apply(new SignSTE({ name, signGrad: this.signGrad }), x);
    if (act === "relu") return this.apply(this.tf.layers.reLU({ name }), x);
    return x;
  }

  /**
   * Spatial padding for a kxk/stride conv reading `x`. Returns the tensor to
   * convolve and the tfjs padding mode to use.
   */
  pad(
    x: SymbolicTensor,
    kernel: number,
    stride: number,
    padding: "same" | "valid",
    padValue: number,
    name: string,
  ): { x: SymbolicTensor; padding: "same" | "valid" } {
    if (padding === "valid" || padValue === 0) return { x, padding };
    const [, h, w] = x.shape;
    if (h == null || w == null) throw new Error(`${name}: spatial input size unknown`);
    const ph = samePadding(h, kernel, stride);
    const pw = samePadding(w, kernel, stride);
    if (ph[0] + ph[1] + pw[0] + pw[1] === 0) return { x, padding: "valid" };
    const padded = this.apply(new ConstantPad2D({ name, padding: [ph, pw], value: padValue }), x);
    return { x: padded, padding: "valid" };
  }

  conv(
    x: SymbolicTensor,
    b: ConvBlock,
    p: string,
    width: number,
    padValue: number,
  ): SymbolicTensor {
    const tf = this.tf;
    const filters = scaleWidth(b.filters, width);
    const stride = b.stride ?? 1;
    const useBias = b.bias ?? !b.bn;
    const k = b.kernel;
    if (b.conv === "standard") {
      const q = this.pad(x, k, stride, b.padding ?? "same", padValue, `${p}_pad`);
      x = this.apply(
        tf.layers.conv2d({
          name: `${p}_conv`,
          filters,
          kernelSize: k,
          strides: stride,
          padding: q.padding,
          useBias,
          kernelInitializer: this.kernelInit(),
        }),
        q.x,
      );
    } else {
      const q = this.pad(x, k, stride, b.padding ?? "same", padValue, `${p}_pad`);
      x = this.apply(
        tf.layers.depthwiseConv2d({
          name: `${p}_dw`,
          kernelSize: k,
          strides: stride,
          padding: q.padding,
          depthMultiplier: 1,
          useBias: false,
          depthwiseInitializer: this.kernelInit(),
        }),
        q.x,
      );
      x = this.apply(
        tf.layers.conv2d({
          name: `${p}_pw`,
          filters,
          kernelSize: 1,
          strides: 1,
          padding: "valid",
          useBias,
          kernelInitializer: this.kernelInit(),
        }),
        x,
      );
    }
    if (b.bn) x = this.bn(x, `${p}_bn`);
    const pool = (y: SymbolicTensor): SymbolicTensor =>
      b.maxpool
        ? this.apply(
            tf.layers.maxPooling2d({
              name: `${p}_pool`,
              poolSize: b.maxpool,
              strides: b.maxpool,
              padding: "valid",
            }),
            y,
          )
        : y;
    if (this.poolFirst) x = this.activation(pool(x), b.activation, `${p}_${b.activation}`);
    else x = pool(this.activation(x, b.activation, `${p}_${b.activation}`));
    if (b.dropout) x = this.apply(tf.layers.dropout({ name: `${p}_dropout`, rate: b.dropout }), x);
    return x;
  }

  dense(x: SymbolicTensor, b: DenseBlock, p: string, units: number): SymbolicTensor {
    const tf = this.tf;
    if (x.shape.length !== 2) x = this.apply(tf.layers.flatten({ name: `${p}_flatten` }), x);
    x = this.apply(
      tf.layers.dense({
        name: `${p}_dense`,
        units,
        useBias: b.bias ?? !b.bn,
        kernelInitializer: this.kernelInit(),
      }),
      x,
    );
    if (b.bn) x = this.bn(x, `${p}_bn`);
    x = this.activation(x, b.activation, `${p}_${b.activation}`);
    if (b.dropout) x = this.apply(tf.layers.dropout({ name: `${p}_dropout`, rate: b.dropout }), x);
    return x;
  }

  residual(x: SymbolicTensor, b: ResidualBlock, p: string, width: number): SymbolicTensor {
    const tf = this.tf;
    const filters = scaleWidth(b.filters, width);
    const stride = b.stride ?? 1;
    const conv = (name: string, k: number, s: number) =>
      tf.layers.conv2d({
        name,
        filters,
        kernelSize: k,
        strides: s,
        padding: "same",
        useBias: false,
        kernelInitializer: this.heInit(),
      });
    let y = this.apply(conv(`${p}_conv1`, 3, stride), x);
    y = this.bn(y, `${p}_bn1`);
    y = this.apply(tf.layers.reLU({ name: `${p}_relu1` }), y);
    y = this.apply(conv(`${p}_conv2`, 3, 1), y);
    y = this.bn(y, `${p}_bn2`);
    let shortcut = x;
    if (stride !== 1 || x.shape[3] !== filters) {
      shortcut = this.apply(conv(`${p}_proj`, 1, stride), x);
      shortcut = this.bn(shortcut, `${p}_proj_bn`);
    }
    const sum = this.apply(tf.layers.add({ name: `${p}_add` }), [y, shortcut]);
    return this.apply(tf.layers.reLU({ name: `${p}_relu2` }), sum);
  }
}

/** The value a conv reading the output of `block` must pad with. */
function padValueAfter(block: Block): number {
  if ((block.type === "conv" || block.type === "dense") && block.activation === "sign") return -1;
  return 0;
}

/**
 * Builds the config's network. Input: [h, w, c] normalised floats (batch
 * first); output: logits (no softmax).
 */
export function buildModel(tf: TF, config: ModelConfig, opts: BuildOptions = {}): tfjs.LayersModel {
  const width = opts.width ?? 1;
  if (!(width > 0) || !Number.isFinite(width)) {
    throw new Error(`buildModel(${config.name}): width must be a positive number, got ${width}`);
  }
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) {
    throw new Error(`buildModel(${config.name}): seed must be an integer, got ${opts.seed}`);
  }
  const builder = new Builder(tf, opts.seed, opts.signGrad, opts.poolFirst ?? false);
  const input = tf.input({ shape: config.input, name: "input" });
  let x: SymbolicTensor = input;
  let padValue = 0;
  const last = config.layers.length - 1;
  config.layers.forEach((b, i) => {
    const p = `b${i}`;
    switch (b.type) {
      case "conv":
        x = builder.conv(x, b, p, width, padValue);
        break;
      case "dense":
        x = builder.dense(x, b, p, i === last ? b.units : scaleWidth(b.units, width));
        break;
      case "residual":
        x = builder.residual(x, b, p, width);
        break;
      case "globalavgpool":
        x = builder.apply(tf.layers.globalAveragePooling2d({ name: `${p}_gap` }), x);
        break;
    }
    padValue = padValueAfter(b);
  });
  return tf.model({ inputs: input, outputs: x, name: config.name });
}

/** Number of parameters: all weights, trainable ones plus BN's moving mean and variance. */
export function countParams(model: tfjs.LayersModel): number {
  return model.weights.reduce((n, w) => n + w.shape.reduce((a: number, d) => a * (d ?? 0), 1), 0);
}
