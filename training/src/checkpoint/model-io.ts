import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic, writeJsonAtomic } from "./atomic";

/**
 * File IO for tfjs LayersModels in node without tfjs-node (pure tfjs has no
 * file:// handler). The layout is tfjs's own "layers-model" format, so the
 * files also load in tfjs elsewhere:
 *   model.json   { format, generatedBy, modelTopology, weightsManifest: [{ paths: ["weights.bin"], weights: [specs] }] }
 *   weights.bin  every weight, in `model.weights` order, little-endian float32
 */
export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";

export interface WeightSpecJson {
  name: string;
  shape: number[];
  dtype: "float32" | "int32" | "bool" | "string" | "complex64";
}

interface ModelJson {
  format?: string;
  generatedBy?: string;
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: WeightSpecJson[] }[];
}

function joinWeightData(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  return new Uint8Array(Array.isArray(data) ? new tf.io.CompositeArrayBuffer(data).slice() : data);
}

/** Saves topology + weights to `dir` (which must exist); each file is written atomically. */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (artifacts.weightData === undefined || artifacts.weightSpecs === undefined) {
        throw new Error("saveModel: tfjs produced no weights");
      }
      writeFileAtomic(join(dir, WEIGHTS_BIN), joinWeightData(artifacts.weightData));
      const json: ModelJson = {
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [
          { paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs as WeightSpecJson[] },
        ],
      };
      writeJsonAtomic(join(dir, MODEL_JSON), json);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
}

function readModelJson(dir: string): ModelJson {
  const path = join(dir, MODEL_JSON);
  if (!existsSync(path)) throw new Error(`${path}: not found (not a model checkpoint)`);
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(path, "utf8")) as ModelJson;
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(json.weightsManifest) || json.weightsManifest.length !== 1) {
    throw new Error(`${path}: weightsManifest must hold exactly one group`);
  }
  return json;
}

/** Reads the files written by {@link saveModel} as tfjs ModelArtifacts (for tf.io.fromMemory). */
export function readModelArtifacts(dir: string): tf.io.ModelArtifacts {
  const json = readModelJson(dir);
  const group = json.weightsManifest[0];
  const weightsPath = join(dir, group.paths[0] ?? WEIGHTS_BIN);
  if (!existsSync(weightsPath)) throw new Error(`${weightsPath}: not found`);
  const buf = readFileSync(weightsPath);
  const expected = group.weights.reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (buf.length !== expected) {
    throw new Error(
      `${weightsPath}: ${buf.length} bytes, model.json weightsManifest needs ${expected}`,
    );
  }
  return {
    format: json.format,
    generatedBy: json.generatedBy,
    modelTopology: json.modelTopology as tf.io.ModelArtifacts["modelTopology"],
    weightSpecs: group.weights as tf.io.WeightsManifestEntry[],
    weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length),
  };
}

/** Loads a model (topology + weights) saved by {@link saveModel}; custom layers must be registered. */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory(readModelArtifacts(dir)));
}

/**
 * Copies the weights saved in `dir` into an already built `model` of the same
 * architecture, matching by position and checking every shape. (Matching by
 * name would break: tfjs numbers auto-named layers per process.)
 */
export function loadWeightsInto(model: tf.LayersModel, dir: string): void {
  const art = readModelArtifacts(dir);
  const specs = art.weightSpecs ?? [];
  const weights = model.weights;
  if (specs.length !== weights.length) {
    throw new Error(
      `${join(dir, MODEL_JSON)}: ${specs.length} weight tensors, the model has ${weights.length}`,
    );
  }
  const data = art.weightData as ArrayBuffer;
  let off = 0;
  const tensors: tf.Tensor[] = [];
  try {
    specs.forEach((s, i) => {
      const want = weights[i].shape;
      if (s.dtype !== "float32") throw new Error(`${s.name}: dtype ${s.dtype} not supported`);
      if (want.length !== s.shape.length || want.some((d, k) => d !== s.shape[k])) {
        throw new Error(
          `${join(dir, MODEL_JSON)}: weight ${i} (${s.name}) has shape [${s.shape}], model expects [${want}] (${weights[i].name})`,
        );
      }
      const n = s.shape.reduce((a, b) => a * b, 1);
      tensors.push(tf.tensor(new Float32Array(data.slice(off, off + 4 * n)), s.shape, "float32"));
      off += 4 * n;
    });
    model.setWeights(tensors);
  } finally {
    for (const t of tensors) t.dispose();
  }
}
