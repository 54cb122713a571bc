import { evaluateFloatTraced } from "../eval/float";
import type { FloatBatchNorm, FloatLayer, FloatModel, FloatShape3 } from "./float-model";

/** Small seeded PRNG (mulberry32) for reproducible test models and inputs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random NHWC uint8 images, count x h x w x c. */
export function randomImages(rand: () => number, count: number, shape: FloatShape3): Uint8Array {
  const n = count * shape[0] * shape[1] * shape[2];
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = Math.floor(rand() * 256);
  return out;
}

function gauss(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function tensor(rand: () => number, n: number, std: number): Float32Array {
  return Float32Array.from({ length: n }, () => gauss(rand) * std);
}

/** Batch norm with random statistics; `negativeGammas` makes about half the gammas negative. */
export function randomBatchNorm(
  rand: () => number,
  name: string,
  channels: number,
  opts: { negativeGammas?: boolean; meanStd?: number } = {},
): FloatBatchNorm {
  return {
    kind: "batchnorm",
    name,
    gamma: Float32Array.from({ length: channels }, () => {
      const g = 0.5 + rand();
      return opts.negativeGammas && rand() < 0.5 ? -g : g;
    }),
    beta: tensor(rand, channels, 0.3),
    mean: tensor(rand, channels, opts.meanStd ?? 0.3),
    variance: Float32Array.from({ length: channels }, () => 0.5 + rand() * 1.5),
    epsilon: 1e-3,
  };
}

function base(name: string, shape: FloatShape3, layers: FloatLayer[], classes = 10): FloatModel {
  const c = shape[2];
  return {
    name,
    dataset: "random",
    input: { shape },
    classes: Array.from({ length: classes }, (_, k) => `class${k}`),
    normalisation: {
      mean: Array.from({ length: c }, (_, k) => 110 + 10 * k),
      std: Array.from({ length: c }, (_, k) => 60 + 5 * k),
    },
    layers,
  };
}

/** FC Sign net on 8x8x1: flatten, dense 64-32 BN sign, dense 32-16 BN sign, dense 16-10. */
export function randomDenseSignNet(seed: number): FloatModel {
  const r = seededRandom(seed);
  return base(
    "dense-sign",
    [8, 8, 1],
    [
      { kind: "flatten", name: "flatten" },
      { kind: "dense", name: "fc1", weights: tensor(r, 64 * 32, 1 / 8), bias: tensor(r, 32, 0.1) },
      randomBatchNorm(r, "bn1", 32, { negativeGammas: true }),
      { kind: "sign", name: "sign1" },
      {
        kind: "dense",
        name: "fc2",
        weights: tensor(r, 32 * 16, 1 / 5.6),
        bias: tensor(r, 16, 0.1),
      },
      randomBatchNorm(r, "bn2", 16, { negativeGammas: true, meanStd: 1 }),
      { kind: "sign", name: "sign2" },
      { kind: "dense", name: "fc3", weights: tensor(r, 16 * 10, 0.25), bias: tensor(r, 10, 0.1) },
    ],
  );
}

/**
 * Conv Sign net on 10x10x3 with "same" padding at stride 1 and 2, separable
 * convs (depthwise + pointwise), negative gammas and maxpool after sign.
 */
export function randomConvSignNet(seed: number): FloatModel {
  const r = seededRandom(seed);
  return base(
    "conv-sign",
    [10, 10, 3],
    [
      {
        kind: "conv2d",
        name: "conv1",
        kernel: [3, 3],
        strides: [1, 1],
        padding: "same",
        padValue: 0,
        weights: tensor(r, 3 * 3 * 3 * 8, 1 / 5.2),
        bias: tensor(r, 8, 0.1),
      },
      randomBatchNorm(r, "bn1", 8, { negativeGammas: true }),
      { kind: "sign", name: "sign1" },
      { kind: "maxpool", name: "pool1", pool: [2, 2], strides: [2, 2] },
      {
        kind: "depthwise2d",
        name: "dw2",
        kernel: [3, 3],
        strides: [2, 2],
        padding: "same",
        padValue: -1,
        weights: tensor(r, 3 * 3 * 8, 1 / 3),
      },
      {
        kind: "pointwise2d",
        name: "pw2",
        weights: tensor(r, 8 * 12, 1 / 2.8),
        bias: tensor(r, 12, 0.1),
      },
      randomBatchNorm(r, "bn2", 12, { negativeGammas: true, meanStd: 1 }),
      { kind: "sign", name: "sign2" },
      {
        kind: "depthwise2d",
        name: "dw3",
        kernel: [3, 3],
        strides: [1, 1],
        padding: "same",
        padValue: -1,
        weights: tensor(r, 3 * 3 * 12, 1 / 3),
        bias: tensor(r, 12, 0.1),
      },
      { kind: "pointwise2d", name: "pw3", weights: tensor(r, 12 * 16, 1 / 3.5) },
      randomBatchNorm(r, "bn3", 16, { negativeGammas: true, meanStd: 1 }),
      { kind: "sign", name: "sign3" },
      { kind: "flatten", name: "flatten" },
      {
        kind: "dense",
        name: "fc",
        weights: tensor(r, 3 * 3 * 16 * 10, 1 / 12),
        bias: tensor(r, 10, 0.1),
      },
    ],
  );
}

/** ReLU net on 8x8x2: conv same + BN + relu + maxpool, conv valid + relu, dense + relu, dense. */
export function randomReluNet(seed: number): FloatModel {
  const r = seededRandom(seed);
  return base(
    "relu",
    [8, 8, 2],
    [
      {
        kind: "conv2d",
        name: "conv1",
        kernel: [3, 3],
        strides: [1, 1],
        padding: "same",
        padValue: 0,
        weights: tensor(r, 3 * 3 * 2 * 6, 1 / 4.2),
        bias: tensor(r, 6, 0.1),
      },
      randomBatchNorm(r, "bn1", 6, { negativeGammas: true }),
      { kind: "relu", name: "relu1" },
      { kind: "maxpool", name: "pool1", pool: [2, 2], strides: [2, 2] },
      {
        kind: "conv2d",
        name: "conv2",
        kernel: [3, 3],
        strides: [1, 1],
        padding: "valid",
        padValue: 0,
        weights: tensor(r, 3 * 3 * 6 * 8, 1 / 7.3),
        bias: tensor(r, 8, 0.1),
      },
      { kind: "relu", name: "relu2" },
      { kind: "flatten", name: "flatten" },
      {
        kind: "dense",
        name: "fc1",
        weights: tensor(r, 2 * 2 * 8 * 16, 1 / 5.6),
        bias: tensor(r, 16, 0.1),
      },
      { kind: "relu", name: "relu3" },
      { kind: "dense", name: "fc2", weights: tensor(r, 16 * 10, 1 / 4), bias: tensor(r, 10, 0.1) },
    ],
  );
}

/**
 * CifarNet2-like deep Sign net on 12x12x3: conv2d 3x3 (same, zero padding)
 * + BN + sign, then `blocks` separable blocks (depthwise 3x3 same with pad -1,
 * pointwise, no biases, BN + sign, maxpool after blocks 2 and 4), flatten,
 * dense. Weight scales follow a briefly trained CifarNet2 (depthwise ~0.07,
 * pointwise ~0.15). Its batch norms are random: pass it through
 * {@link fitBatchNormStatistics} to get trained-like thresholds.
 */
export function randomSeparableSignNet(seed: number, blocks = 5, width = 16): FloatModel {
  const r = seededRandom(seed);
  const bn = (name: string, c: number): FloatBatchNorm => ({
    ...randomBatchNorm(r, name, c, { negativeGammas: true }),
    beta: tensor(r, c, 0.1),
  });
  const layers: FloatLayer[] = [
    {
      kind: "conv2d",
      name: "b0_conv",
      kernel: [3, 3],
      strides: [1, 1],
      padding: "same",
      padValue: 0,
      weights: tensor(r, 3 * 3 * 3 * width, 0.1),
    },
    bn("b0_bn", width),
    { kind: "sign", name: "b0_sign" },
  ];
  let side = 12;
  for (let b = 1; b <= blocks; b++) {
    layers.push(
      {
        kind: "depthwise2d",
        name: `b${b}_dw`,
        kernel: [3, 3],
        strides: [1, 1],
        padding: "same",
        padValue: -1,
        weights: tensor(r, 3 * 3 * width, 0.07),
      },
      { kind: "pointwise2d", name: `b${b}_pw`, weights: tensor(r, width * width, 0.15) },
      bn(`b${b}_bn`, width),
      { kind: "sign", name: `b${b}_sign` },
    );
    if ((b === 2 || b === 4) && side >= 2) {
      layers.push({ kind: "maxpool", name: `b${b}_pool`, pool: [2, 2], strides: [2, 2] });
      side = Math.floor(side / 2);
    }
  }
  layers.push(
    { kind: "flatten", name: "flatten" },
    {
      kind: "dense",
      name: "fc",
      weights: tensor(r, side * side * width * 10, 0.03),
      bias: tensor(r, 10, 0.1),
    },
  );
  return base("separable-sign", [12, 12, 3], layers);
}

/**
 * A copy of `model` whose batch norms hold the per-channel mean and variance
 * of their inputs on the images (each fitted after the ones before it), as a
 * trained model's moving statistics do: the sign thresholds then sit near the
 * middle of the pre-sign distributions, where most values are, unlike
 * {@link randomBatchNorm}'s random statistics.
 */
export function fitBatchNormStatistics(
  model: FloatModel,
  images: Uint8Array,
  count: number,
): FloatModel {
  const layers = model.layers.map((l) => ({ ...l }));
  const fitted: FloatModel = { ...model, layers };
  layers.forEach((l, i) => {
    if (l.kind !== "batchnorm" || i === 0) return;
    const c = l.mean.length;
    const sum = new Float64Array(c);
    const sq = new Float64Array(c);
    let n = 0;
    // layers before i already hold fitted statistics; later ones do not matter here
    evaluateFloatTraced(fitted, images, count, (_, li, out) => {
      if (li !== i - 1) return;
      for (let k = 0; k < out.length; k++) {
        sum[k % c] += out[k];
        sq[k % c] += out[k] * out[k];
      }
      n += out.length / c;
    });
    const mean = Float32Array.from(sum, (s) => s / n);
    const variance = Float32Array.from(sq, (s, k) => Math.max(s / n - mean[k] * mean[k], 1e-6));
    layers[i] = { ...l, mean, variance };
  });
  return fitted;
}
