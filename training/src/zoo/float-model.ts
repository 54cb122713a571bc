/**
 * Converts a trained zoo model (tfjs) into the tfjs-free {@link FloatModel} of
 * @cbnn/shared, which the exporter turns into the fixed-point export.
 * Explicit ConstantPad2D + "valid" conv pairs become one conv with
 * padding "same" and `padValue` (checked to be TensorFlow's SAME amounts).
 */
import type { FloatLayer, FloatModel } from "@cbnn/shared";
import type * as tfjs from "@tensorflow/tfjs";
import { type ConstantPad2D, samePadding } from "../layers";
import type { ModelConfig } from "./config";

export interface FloatModelInfo {
  dataset: string;
  classes: string[];
  /** Per channel, on 0..255: x_float = (pixel - mean) / std (what the model was trained on). */
  normalisation: { mean: number[]; std: number[] };
}

type LayerConfig = Record<string, unknown>;

function copy(t: tfjs.Tensor): Float32Array {
  return new Float32Array(t.dataSync());
}

function pair(v: unknown, what: string): [number, number] {
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === "number")) {
    return [v[0] as number, v[1] as number];
  }
  throw new Error(`${what}: expected a number or a pair, got ${JSON.stringify(v)}`);
}

function inputShape(layer: tfjs.layers.Layer): number[] {
  const input = layer.input as tfjs.SymbolicTensor | tfjs.SymbolicTensor[];
  const s = (Array.isArray(input) ? input[0] : input).shape;
  return s.map((d) => d ?? -1);
}

/**
 * Walks a zoo model (a chain of layers, as buildModel makes for students and
 * plain teachers) and returns its float description. Throws on layers the
 * float format cannot express (residual adds, global pooling, dilations,
 * fused activations), naming the layer.
 */
export function toFloatModel(
  model: tfjs.LayersModel,
  config: ModelConfig,
  info: FloatModelInfo,
): FloatModel {
  const src = `toFloatModel(${config.name})`;
  const inShape = model.inputs[0].shape.slice(1);
  if (inShape.length !== 3 || inShape.some((d, i) => d !== config.input[i])) {
    throw new Error(
      `${src}: model input [${inShape}] does not match config input [${config.input}]`,
    );
  }
  if (info.classes.length !== config.classes) {
    throw new Error(
      `${src}: info.classes has ${info.classes.length} names, config says ${config.classes} classes`,
    );
  }
  const c = config.input[2];
  if (info.normalisation.mean.length !== c || info.normalisation.std.length !== c) {
    throw new Error(`${src}: info.normalisation needs ${c} mean and std values`);
  }

  const layers: FloatLayer[] = [];
  let pending: { layer: ConstantPad2D; value: number } | null = null;
  let prev: tfjs.layers.Layer | null = null;

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const where = `${src}: layer ${layer.name} (${cls})`;
    if (cls === "InputLayer") {
      prev = layer;
      continue;
    }
    const inbound = layer.inboundNodes;
    if (inbound.length !== 1 || inbound[0].inboundLayers.length !== 1) {
      throw new Error(`${where}: only a plain chain of layers can be converted`);
    }
    if (inbound[0].inboundLayers[0] !== prev) {
      throw new Error(`${where}: does not read the previous layer; not a plain chain`);
    }
    prev = layer;
    const cfg = layer.getConfig() as LayerConfig;
    const weights = layer.getWeights();
    if (pending && cls !== "Conv2D" && cls !== "DepthwiseConv2D") {
      throw new Error(`${where}: follows a padding layer, which only convolutions may`);
    }
    const linear = () => {
      if (cfg.activation !== undefined && cfg.activation !== "linear") {
        throw new Error(`${where}: fused activation "${cfg.activation}" is not supported`);
      }
    };
    const convGeometry = () => {
      const kernel = pair(cfg.kernelSize, `${where} kernelSize`);
      const strides = pair(cfg.strides, `${where} strides`);
      const dilation = pair(cfg.dilationRate ?? 1, `${where} dilationRate`);
      if (dilation[0] !== 1 || dilation[1] !== 1)
        throw new Error(`${where}: dilation is not supported`);
      let padding = cfg.padding as "same" | "valid";
      let padValue = 0;
      if (pending) {
        if (padding !== "valid") throw new Error(`${where}: padded explicitly and by the conv`);
        const [, h, w] = inputShape(pending.layer);
        const want = [samePadding(h, kernel[0], strides[0]), samePadding(w, kernel[1], strides[1])];
        const got = pending.layer.padding;
        if (
          got[0][0] !== want[0][0] ||
          got[0][1] !== want[0][1] ||
          got[1][0] !== want[1][0] ||
          got[1][1] !== want[1][1]
        ) {
          throw new Error(
            `${where}: explicit padding ${JSON.stringify(got)} is not TensorFlow SAME ${JSON.stringify(want)}`,
          );
        }
        padding = "same";
        padValue = pending.value;
        pending = null;
      }
      return { kernel, strides, padding, padValue };
    };
    const bias = (i: number) => (weights.length > i ? { bias: copy(weights[i]) } : {});

    switch (cls) {
      case "ConstantPad2D": {
        pending = { layer: layer as ConstantPad2D, value: (layer as ConstantPad2D).value };
        break;
      }
      case "Conv2D": {
        linear();
        const g = convGeometry();
        const [kh, kw, inC, outC] = weights[0].shape;
        const isPointwise =
          layer.name.endsWith("_pw") &&
          kh === 1 &&
          kw === 1 &&
          g.strides[0] === 1 &&
          g.strides[1] === 1 &&
          g.padding === "valid";
        if (isPointwise) {
          layers.push({
            kind: "pointwise2d",
            name: layer.name,
            weights: copy(weights[0]),
            ...bias(1),
          });
        } else {
          layers.push({
            kind: "conv2d",
            name: layer.name,
            kernel: [kh, kw],
            strides: g.strides,
            padding: g.padding,
            padValue: g.padValue,
            weights: copy(weights[0]),
            ...bias(1),
          });
        }
        if (inC <= 0 || outC <= 0) throw new Error(`${where}: empty kernel`);
        break;
      }
      case "DepthwiseConv2D": {
        linear();
        if ((cfg.depthMultiplier ?? 1) !== 1)
          throw new Error(`${where}: depthMultiplier must be 1`);
        const g = convGeometry();
        const [kh, kw] = weights[0].shape;
        layers.push({
          kind: "depthwise2d",
          name: layer.name,
          kernel: [kh, kw],
          strides: g.strides,
          padding: g.padding,
          padValue: g.padValue,
          weights: copy(weights[0]),
          ...bias(1),
        });
        break;
      }
      case "Dense": {
        linear();
        layers.push({ kind: "dense", name: layer.name, weights: copy(weights[0]), ...bias(1) });
        break;
      }
      case "BatchNormalization": {
        const axis = cfg.axis;
        if (axis !== -1 && axis !== inputShape(layer).length - 1) {
          throw new Error(`${where}: only last-axis batch norm is supported`);
        }
        const byName = (suffix: string): Float32Array | undefined => {
          const i = layer.weights.findIndex((w) => w.originalName.endsWith(suffix));
          return i < 0 ? undefined : copy(weights[i]);
        };
        const mean = byName("moving_mean");
        const variance = byName("moving_variance");
        if (!mean || !variance) throw new Error(`${where}: moving statistics missing`);
        const n = mean.length;
        layers.push({
          kind: "batchnorm",
          name: layer.name,
          gamma: byName("gamma") ?? new Float32Array(n).fill(1),
          beta: byName("beta") ?? new Float32Array(n),
          mean,
          variance,
          epsilon: cfg.epsilon as number,
        });
        break;
      }
      case "SignSTE":
        layers.push({ kind: "sign", name: layer.name });
        break;
      case "ReLU":
        if (cfg.maxValue != null) throw new Error(`${where}: capped ReLU is not supported`);
        layers.push({ kind: "relu", name: layer.name });
        break;
      case "Activation":
        if (cfg.activation === "relu") layers.push({ kind: "relu", name: layer.name });
        else if (cfg.activation !== "linear") {
          throw new Error(`${where}: activation "${cfg.activation}" is not supported`);
        }
        break;
      case "MaxPooling2D": {
        if (cfg.padding !== "valid")
          throw new Error(`${where}: only valid max pooling is supported`);
        layers.push({
          kind: "maxpool",
          name: layer.name,
          pool: pair(cfg.poolSize, `${where} poolSize`),
          strides: pair(cfg.strides ?? cfg.poolSize, `${where} strides`),
        });
        break;
      }
      case "Flatten":
        layers.push({ kind: "flatten", name: layer.name });
        break;
      case "Dropout":
        break; // identity at inference
      default:
        throw new Error(`${where}: not expressible in the float export format`);
    }
  }
  if (pending) throw new Error(`${src}: model ends with a padding layer`);
  const outShape = model.outputs[0].shape;
  if (outShape.length !== 2 || outShape[1] !== config.classes) {
    throw new Error(`${src}: model output [${outShape}] is not [batch, ${config.classes}] logits`);
  }
  return {
    name: config.name,
    dataset: info.dataset,
    input: { shape: [config.input[0], config.input[1], config.input[2]] },
    classes: [...info.classes],
    normalisation: { mean: [...info.normalisation.mean], std: [...info.normalisation.std] },
    layers,
  };
}
