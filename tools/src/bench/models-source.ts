/**
 * Where the benchmarked models come from: a trained export in
 * `checkpoints/<name>/export/` (float checkpoint beside it in
 * `checkpoints/<name>/`) when one exists, else the no-KD twin's in
 * `checkpoints/<name>-orinet/export/`, else a hand-made export with the
 * zoo network's exact shapes and seeded random weights ("random weights (cost
 * only)": time, rounds and bytes do not depend on the weights, accuracy does).
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type DatasetName, loadDataset } from "@cbnn/datasets";
import { exportModel, loadExport, type ModelExport, saveExport } from "@cbnn/shared";
import {
  buildModel,
  countParams,
  loadModelConfig,
  loadTrainedModel,
  type Tf,
  toFloatModel,
} from "@cbnn/training";
import { REPO_ROOT } from "./env";

/** tfjs LayersModel (tools does not depend on tfjs directly). */
export type LayersModel = ReturnType<Tf["model"]>;

export const CHECKPOINTS_DIR = path.join(REPO_ROOT, "checkpoints");

export interface ModelSource {
  /** Zoo name, e.g. "mnistnet1". */
  name: string;
  exportDir: string;
  weights: "trained" | "random";
  /** What the table says about the weights. */
  label: string;
  model: ModelExport;
  exportWeights: Int32Array;
  /** The float (tfjs) model the export came from (trained checkpoint or the random one). */
  float: LayersModel;
  /** Normalisation the float model expects (pixel - mean) / std per channel. */
  normalisation: { mean: number[]; std: number[] };
  /** Parameters of the float model, BN moving statistics included (zoo countParams). */
  params: number;
  /** Set when a trained export was expected but absent or unreadable. */
  gap: string | null;
}

/** Standard per-channel statistics, used only for random-weight exports. */
const NORMALISATION: Record<string, { mean: number[]; std: number[] }> = {
  mnist: { mean: [33.3], std: [78.6] },
  cifar10: { mean: [125.3, 123.0, 113.9], std: [63.0, 62.1, 66.7] },
};

let tmpRoot: string | null = null;

/** A random-weight export of zoo model `name` (seeded), written to a temp directory. */
export async function randomSource(tf: Tf, name: string, gap: string | null): Promise<ModelSource> {
  const config = loadModelConfig(name);
  const float = buildModel(tf, config, { seed: 1 });
  const normalisation = NORMALISATION[config.dataset];
  if (!normalisation) throw new Error(`${name}: no normalisation for dataset ${config.dataset}`);
  const fm = toFloatModel(float, config, {
    dataset: config.dataset,
    classes: Array.from({ length: config.classes }, (_, k) => String(k)),
    normalisation,
  });
  // Layers reading int activations (separable convs) need calibrated ranges.
  const calib = await loadDataset(config.dataset as DatasetName, "train", { limit: 64 });
  const ex = exportModel(fm, {
    calibration: { images: calib.images, count: calib.count },
    source: { checkpoint: `random weights (seed 1) for ${name}` },
  });
  tmpRoot ??= mkdtempSync(path.join(tmpdir(), "cbnn-bench-exports-"));
  const dir = path.join(tmpRoot, name);
  await saveExport(dir, { ...ex.model, name: `${name}-random` }, ex.weights);
  const loaded = await loadExport(dir);
  return {
    name,
    exportDir: dir,
    weights: "random",
    label: "random weights (cost only)",
    model: loaded.model,
    exportWeights: loaded.weights,
    float,
    normalisation,
    params: countParams(float),
    gap,
  };
}

/**
 * The trained export of `name`: `checkpoints/<name>/export/` (the KD student,
 * float checkpoint beside it in `checkpoints/<name>/`), else its no-KD twin
 * `checkpoints/<name>-orinet/export/` (labelled as such), else a random-weight
 * one with `gap` saying why.
 */
export async function modelSource(tf: Tf, name: string): Promise<ModelSource> {
  const candidates = [
    { dir: name, label: `trained (checkpoints/${name})` },
    { dir: `${name}-orinet`, label: `trained without KD (checkpoints/${name}-orinet)` },
  ];
  const problems: string[] = [];
  for (const c of candidates) {
    const base = path.join(CHECKPOINTS_DIR, c.dir);
    const exportDir = path.join(base, "export");
    if (!existsSync(path.join(exportDir, "model.json"))) {
      problems.push(`no trained export at checkpoints/${c.dir}/export/`);
      continue;
    }
    try {
      const { model, weights } = await loadExport(exportDir);
      const t = loadTrainedModel(tf, base);
      return {
        name,
        exportDir,
        weights: "trained",
        label: c.label,
        model,
        exportWeights: weights,
        float: t.model,
        normalisation: t.run.normalisation,
        params: countParams(t.model),
        gap: null,
      };
    } catch (e) {
      problems.push(
        `checkpoints/${c.dir}: trained export or checkpoint unusable: ${(e as Error).message}`,
      );
    }
  }
  return randomSource(tf, name, problems.join("; "));
}
