import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type DatasetName, isDatasetName, loadDataset } from "@cbnn/datasets";
import { accuracy, argmaxAgreement, argmaxRows, evaluateFixed, loadExport } from "@cbnn/shared";
import * as tf from "@tensorflow/tfjs";
import type { Which } from "../checkpoint/checkpoint";
import { loadTrainedModel } from "../checkpoint/load";
import { type DataSplit, evaluateFloat, type Normalisation, normaliseBatch } from "./trainer";

export interface FloatEvaluation {
  acc: number;
  count: number;
  checkpoint: string;
  model: string;
  dataset: DatasetName;
}

/** Float (tfjs) accuracy of a trained checkpoint on the test set. */
export async function evaluateCheckpoint(
  path: string,
  opts: { which?: Which; limit?: number } = {},
): Promise<FloatEvaluation> {
  const t = loadTrainedModel(tf, path, opts.which ?? "best");
  const test = await loadDataset(t.run.dataset, "test", limitOpt(opts.limit));
  const r = evaluateFloat(t.model, test, t.run.normalisation);
  t.model.dispose();
  return {
    acc: r.acc,
    count: test.count,
    checkpoint: t.modelDir,
    model: t.config.name,
    dataset: t.run.dataset,
  };
}

function limitOpt(limit?: number): { limit?: number } {
  return limit === undefined ? {} : { limit };
}

function floatLogits(model: tf.LayersModel, data: DataSplit, norm: Normalisation): Float32Array {
  const [h, w, c] = data.shape;
  const px = h * w * c;
  const parts: Float32Array[] = [];
  for (let from = 0; from < data.count; from += 500) {
    const n = Math.min(500, data.count - from);
    parts.push(
      tf.tidy(() => {
        const x = normaliseBatch(
          data.images.subarray(from * px, (from + n) * px),
          n,
          data.shape,
          norm,
        );
        return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
      }),
    );
  }
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface FixedEvaluation {
  acc: number;
  count: number;
  exportDir: string;
  dataset: DatasetName;
  /** Present when the export's source checkpoint could be loaded. */
  float: { acc: number; argmaxAgreement: number; checkpoint: string } | null;
  /** Why `float` is null, when it is. */
  floatNote: string | null;
}

/**
 * Fixed-point accuracy of an export (the plaintext reference evaluator, which
 * computes what the secure protocols compute) on the test set, next to the
 * float model's accuracy when the export's source checkpoint is available.
 */
export async function evaluateExport(
  dir: string,
  opts: { limit?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<FixedEvaluation> {
  const { model, weights } = await loadExport(dir);
  const dataset = model.input.dataset;
  if (!isDatasetName(dataset))
    throw new Error(`${dir}/model.json: input.dataset "${dataset}" is unknown`);
  const test = await loadDataset(dataset, "test", limitOpt(opts.limit));
  const classes = model.classes.length;
  const px = test.shape[0] * test.shape[1] * test.shape[2];
  const logits = new Int32Array(test.count * classes);
  const chunk = 250;
  for (let from = 0; from < test.count; from += chunk) {
    const n = Math.min(chunk, test.count - from);
    logits.set(
      evaluateFixed(model, weights, test.images.subarray(from * px, (from + n) * px), n),
      from * classes,
    );
    opts.onProgress?.(from + n, test.count);
  }
  const acc = accuracy(argmaxRows(logits, classes), test.labels);
  let float: FixedEvaluation["float"] = null;
  let floatNote: string | null = null;
  // Exports record their source checkpoint relative to the export directory
  // (older ones: absolute).
  const ckpt =
    typeof model.source.checkpoint === "string" ? resolve(dir, model.source.checkpoint) : null;
  if (ckpt !== null && existsSync(ckpt)) {
    try {
      const t = loadTrainedModel(tf, ckpt);
      const fl = floatLogits(t.model, test, t.run.normalisation);
      t.model.dispose();
      const facc = accuracy(argmaxRows(fl, classes), test.labels);
      float = {
        acc: facc,
        argmaxAgreement: argmaxAgreement(fl, logits, classes),
        checkpoint: ckpt,
      };
    } catch (e) {
      floatNote = `float model not evaluated: ${(e as Error).message}`;
    }
  } else {
    floatNote = `float model not evaluated: source checkpoint ${String(ckpt)} not found`;
  }
  return { acc, count: test.count, exportDir: dir, dataset, float, floatNote };
}
