import { existsSync } from "node:fs";
import { join } from "node:path";
import type * as tf from "@tensorflow/tfjs";
import type { RunJson } from "../trainer/trainer";
import { buildModel } from "../zoo/build";
import { type ModelConfig, validateModelConfig } from "../zoo/config";
import { RUN_JSON, readJsonFile, resolveCheckpoint, type Which } from "./checkpoint";
import { loadWeightsInto } from "./model-io";

/** What `pnpm train` records in run.json besides the trainer's own fields. */
export interface TrainRunJson extends RunJson {
  model: string;
  modelConfig: ModelConfig;
  width: number;
  dataset: "mnist" | "cifar10";
  classNames: string[];
  valSplit: string;
  augment: boolean;
  backend: string;
  limit: number | null;
  teacher: {
    checkpoint: string;
    model: string;
    width: number;
    weightsSha256: string;
  } | null;
  kd: { lambda: number; T: number; t2Scaling: boolean } | null;
  /** The weights `--init` started from (absent in runs older than the field; null: from scratch). */
  init?: TrainInit | null;
}

/** What run.json records about the weights a `--init` run started from (see describeInit). */
export interface TrainInit {
  /** Checkpoint directory (model.json + weights.bin) as it was when training started. */
  checkpoint: string;
  weightsSha256: string;
  /** run.json of the run that produced those weights, when it was a `pnpm train` run. */
  run?: TrainRunJson;
  /** Epochs of training the weights hold (their own --init chain included). */
  epochs?: number;
  /** Seconds those epochs took (sum of their history.json wall times). */
  trainSeconds?: number;
}

export interface TrainedModel {
  model: tf.LayersModel;
  config: ModelConfig;
  run: TrainRunJson;
  /** Directory with model.json + weights.bin that was loaded. */
  modelDir: string;
  runDir: string;
}

/**
 * Loads a model trained by `pnpm train`: `path` is a run directory (best
 * checkpoint by default) or one checkpoint directory inside it. The network
 * is rebuilt from the config stored in run.json, then the weights are loaded.
 */
export function loadTrainedModel(
  tfns: typeof tf,
  path: string,
  which: Which = "best",
): TrainedModel {
  const { modelDir, runDir } = resolveCheckpoint(path, which);
  if (!runDir || !existsSync(join(runDir, RUN_JSON))) {
    throw new Error(`${path}: no ${RUN_JSON} beside the checkpoint (not written by pnpm train)`);
  }
  const runPath = join(runDir, RUN_JSON);
  const run = readJsonFile<TrainRunJson>(runPath);
  if (!run.modelConfig) throw new Error(`${runPath}: field "modelConfig" missing`);
  const config = validateModelConfig(run.modelConfig, `${runPath} modelConfig`);
  if (!(typeof run.width === "number" && run.width > 0)) {
    throw new Error(`${runPath}: field "width" must be a positive number`);
  }
  // the Sign's backward pass as trained (the forward pass is the same either way);
  // a --pool-first run loads in the usual order (pool after the activation, the
  // same function), which is the order the export and the secure protocols take
  const model = buildModel(tfns, config, { width: run.width, signGrad: run.hyper?.signGrad });
  loadWeightsInto(model, modelDir);
  return { model, config, run, modelDir, runDir };
}
