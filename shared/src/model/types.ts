/**
 * The cbnn export format (version 1): the contract between training/ (which
 * writes it) and inference/ (which runs it under MPC). `model.json` holds a
 * {@link ModelExport}; `weights.bin` holds every tensor as little-endian int32.
 *
 * Semantics (exact, in the ring Z_2^32, values read as two's-complement int32):
 * - Activations are NHWC tensors (batch first); a `dense` layer flattens its
 *   input in H,W,C order.
 * - A tensor's `domain` says what the values mean:
 *   - "int": fixed-point integers with `fracBits` fractional bits;
 *   - "bits": values in {0,1}, the output of `sign` (1 means x >= 0, i.e. the
 *     float activation +1; 0 means -1). The layer that reads bits has already
 *     absorbed the {0,1} -> {-1,+1} map into its weights and bias
 *     (W' = 2W, b' = b - W.1), so it computes W'.bits + b' like any linear layer.
 * - Linear layers compute y = W.x + b in the ring, then, when `outShift > 0`,
 *   an arithmetic right shift by `outShift` (the reference evaluator floors; the
 *   secure truncation may be off by one in the last place, see inference docs).
 *   Zero padding pads the *stored* values with 0 (for bit inputs that is the
 *   float value -1, which is how students are trained). Where the float model
 *   padded something else (e.g. normalised input), the exporter folds the
 *   difference into a per-position bias (biasShape = [outH, outW, outC]).
 * - `sign` maps x to the bit (x >= 0 ? 1 : 0) (MSB of x, negated). Any BN
 *   threshold has already been folded into the previous layer's bias, and
 *   channels whose BN scale was negative have had their weights negated.
 * - `relu` maps x to max(x, 0) in the same domain and scale.
 * - `maxpool` over bits is the OR of the window ("or"); over ints it is the max
 *   ("max"). "sum-sign" is the paper's variant for bits: output bit is
 *   1 iff sum(window) - 1 >= 0, equal to OR for {0,1} inputs.
 * - The last layer's output is the logits, revealed to the data owner only.
 */

export const EXPORT_FORMAT = "cbnn-export";
export const EXPORT_FORMAT_VERSION = 1;
export const RING_BITS = 32;

/** Where a tensor lives in weights.bin, in int32 elements (not bytes). */
export interface TensorRef {
  offset: number;
  length: number;
  shape: number[];
  /** Fractional bits of this tensor's fixed-point values. */
  fracBits: number;
}

export type Domain = "int" | "bits";

/** [height, width, channels]; a flat vector is [1, 1, n]. */
export type Shape3 = [number, number, number];

export interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

interface LayerBase {
  /** Unique, human-readable layer name (used in errors and progress). */
  name: string;
  inShape: Shape3;
  outShape: Shape3;
  inDomain: Domain;
  outDomain: Domain;
  /** Fractional bits of the output values (0 for bits). */
  outFracBits: number;
}

interface LinearBase extends LayerBase {
  weights: TensorRef;
  /** Shape [outC] (per channel) or [outH, outW, outC] (per position). */
  bias: TensorRef;
  /** Arithmetic right shift applied after the affine map (0 = none). */
  outShift: number;
  /**
   * Optional proven magnitude bound: every output value v (after the shift)
   * satisfies |v| < 2^outBoundBits for every possible input. Only allowed on
   * layers whose input range is known statically (the first layer, reading
   * uint8 pixels, and layers reading bits); secure inference uses it to size
   * the MSB extraction of a following sign/relu (see docs/export-format.md).
   */
  outBoundBits?: number;
}

/** Standard convolution; weights shaped [kh, kw, inC, outC]. */
export interface Conv2dLayer extends LinearBase {
  kind: "conv2d";
  kernel: [number, number];
  strides: [number, number];
  padding: Padding;
}

/** Depthwise convolution (multiplier 1); weights shaped [kh, kw, C, 1]. */
export interface DepthwiseConv2dLayer extends LinearBase {
  kind: "depthwise2d";
  kernel: [number, number];
  strides: [number, number];
  padding: Padding;
}

/** 1x1 convolution; weights shaped [inC, outC]. */
export interface PointwiseConv2dLayer extends LinearBase {
  kind: "pointwise2d";
}

/** Fully connected; input flattened (H,W,C order); weights shaped [inFeatures, outFeatures]. */
export interface DenseLayer extends LinearBase {
  kind: "dense";
}

export interface SignLayer extends LayerBase {
  kind: "sign";
}

export interface ReluLayer extends LayerBase {
  kind: "relu";
}

export type MaxPoolMode = "or" | "sum-sign" | "max";

export interface MaxPoolLayer extends LayerBase {
  kind: "maxpool";
  pool: [number, number];
  strides: [number, number];
  mode: MaxPoolMode;
}

export type LinearLayer = Conv2dLayer | DepthwiseConv2dLayer | PointwiseConv2dLayer | DenseLayer;
export type Layer = LinearLayer | SignLayer | ReluLayer | MaxPoolLayer;
export type LayerKind = Layer["kind"];

export interface InputSpec {
  /** [height, width, channels]: 28x28x1 for MNIST, 32x32x3 for CIFAR-10. */
  shape: Shape3;
  /** Raw integer pixels 0..255 are fed; normalisation is folded into layer 1. */
  encoding: "uint8";
  dataset: string;
}

export interface ModelExport {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_FORMAT_VERSION;
  name: string;
  ringBits: typeof RING_BITS;
  input: InputSpec;
  classes: string[];
  layers: Layer[];
  blob: {
    file: string;
    /** Length of weights.bin in bytes. */
    bytes: number;
    sha256: string;
  };
  source: {
    checkpoint: string;
    dataset: string;
    normalisation: { mean: number[]; std: number[] };
    createdAt: string;
    [key: string]: unknown;
  };
}
