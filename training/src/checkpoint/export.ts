import { relative, resolve } from "node:path";
import { loadDataset } from "@cbnn/datasets";
import {
  type ExportReport,
  exportModel,
  formatExportReport,
  type ModelExport,
  saveExport,
} from "@cbnn/shared";
import type * as tf from "@tensorflow/tfjs";
import { toFloatModel } from "../zoo/float-model";
import type { Which } from "./checkpoint";
import { loadTrainedModel } from "./load";

export interface ExportCheckpointOptions {
  checkpoint: string;
  out: string;
  fracBits?: number;
  /**
   * Cap on pre-sign magnitudes (bits) of layers reading pixels or bits,
   * recorded as `outBoundBits` (exportModel's `presignBits`): default 28
   * (DEFAULT_PRESIGN_BITS), `null` = no cap (the older ~30-bit rule).
   */
  presignBits?: number | null;
  /**
   * Merge each depthwise + pointwise pair into one conv2d (exportModel's
   * `mergeSeparable`): same function, one linear layer (reshare round) less
   * per pair, kh*kw times the pointwise's multiplications. Default false.
   */
  mergeSeparable?: boolean;
  /** Training images used to calibrate activation ranges (default 500). */
  calibration?: number;
  which?: Which;
}

export interface ExportCheckpointResult {
  model: ModelExport;
  weights: Int32Array;
  report: ExportReport;
  reportText: string;
  out: string;
}

/**
 * `pnpm export`: trained checkpoint -> FloatModel (toFloatModel) -> fixed-point
 * export (exportModel, calibrated on training images) -> model.json + weights.bin.
 */
export async function exportCheckpoint(
  tfns: typeof tf,
  o: ExportCheckpointOptions,
): Promise<ExportCheckpointResult> {
  const trained = loadTrainedModel(tfns, o.checkpoint, o.which ?? "best");
  const { run, config } = trained;
  const float = toFloatModel(trained.model, config, {
    dataset: run.dataset,
    classes: run.classNames,
    normalisation: run.normalisation,
  });
  trained.model.dispose();
  const calCount = o.calibration ?? 500;
  if (!Number.isInteger(calCount) || calCount < 1) {
    throw new Error(`--calibration must be a positive integer, got ${calCount}`);
  }
  const cal = await loadDataset(run.dataset, "train", { limit: calCount });
  const out = resolve(o.out);
  // Paths relative to the export directory, so a shipped export still finds its
  // float checkpoint in another clone.
  const rel = (p: string): string => relative(out, p) || ".";
  const result = exportModel(float, {
    fracBits: o.fracBits,
    presignBits: o.presignBits,
    mergeSeparable: o.mergeSeparable,
    calibration: { images: cal.images, count: cal.count },
    source: {
      checkpoint: rel(trained.modelDir),
      run: rel(trained.runDir),
      model: config.name,
      width: run.width,
      kd: run.kd,
      teacher: run.teacher?.model ?? null,
    },
  });
  await saveExport(out, result.model, result.weights);
  return { ...result, reportText: formatExportReport(result.report), out };
}
