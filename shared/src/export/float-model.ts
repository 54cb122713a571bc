/**
 * A float model description, independent of tfjs: what training/ produces from
 * a trained tfjs student and what {@link exportModel} turns into a fixed-point
 * {@link ModelExport}. Tensors use TensorFlow's layouts.
 *
 * Images are NHWC uint8 (0..255). The float model first normalises each
 * channel: x_float = (pixel - mean[c]) / std[c], then runs `layers` in order.
 * The last layer's output is the logits.
 */

export type FloatShape3 = [number, number, number];

export interface FloatModel {
  name: string;
  dataset: string;
  input: { shape: FloatShape3 };
  classes: string[];
  /** Per channel, on 0..255: x_float = (pixel - mean) / std. */
  normalisation: { mean: number[]; std: number[] };
  layers: FloatLayer[];
}

export type FloatPadding = "same" | "valid";

/** Standard convolution; weights [kh, kw, inC, outC]. */
export interface FloatConv2d {
  kind: "conv2d";
  name: string;
  kernel: [number, number];
  strides: [number, number];
  /** "same" follows TensorFlow: total = max((ceil(in/s)-1)*s + k - in, 0), extra at bottom/right. */
  padding: FloatPadding;
  /** Value the float model padded with (0 normally; -1 for layers reading sign outputs). */
  padValue: number;
  weights: Float32Array;
  bias?: Float32Array;
}

/** Depthwise convolution, multiplier 1; weights [kh, kw, C, 1]. */
export interface FloatDepthwise2d {
  kind: "depthwise2d";
  name: string;
  kernel: [number, number];
  strides: [number, number];
  padding: FloatPadding;
  padValue: number;
  weights: Float32Array;
  bias?: Float32Array;
}

/** 1x1 convolution; weights [inC, outC]. */
export interface FloatPointwise2d {
  kind: "pointwise2d";
  name: string;
  weights: Float32Array;
  bias?: Float32Array;
}

/** Fully connected; input flattened in H,W,C order; weights [in, out]. */
export interface FloatDense {
  kind: "dense";
  name: string;
  weights: Float32Array;
  bias?: Float32Array;
}

/** y = gamma * (x - mean) / sqrt(variance + epsilon) + beta, per channel (last axis). */
export interface FloatBatchNorm {
  kind: "batchnorm";
  name: string;
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/** Float sign: x >= 0 -> +1, else -1. */
export interface FloatSign {
  kind: "sign";
  name: string;
}

export interface FloatRelu {
  kind: "relu";
  name: string;
}

/** Max pooling, valid padding. */
export interface FloatMaxPool {
  kind: "maxpool";
  name: string;
  pool: [number, number];
  strides: [number, number];
}

/** Flatten (H,W,C order); a no-op on the data, kept for readability. */
export interface FloatFlatten {
  kind: "flatten";
  name: string;
}

export type FloatLinearLayer = FloatConv2d | FloatDepthwise2d | FloatPointwise2d | FloatDense;

export type FloatLayer =
  | FloatConv2d
  | FloatDepthwise2d
  | FloatPointwise2d
  | FloatDense
  | FloatBatchNorm
  | FloatSign
  | FloatRelu
  | FloatMaxPool
  | FloatFlatten;

export type FloatLayerKind = FloatLayer["kind"];
