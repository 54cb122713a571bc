import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic, writeJsonAtomic } from "../checkpoint/atomic";
import type { DataSplit, Normalisation } from "./trainer";
import { normaliseBatch } from "./trainer";

/** Default cache directory for teacher logits: training/cache/teacher-logits. */
export const DEFAULT_KD_CACHE_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../cache/teacher-logits",
);

export interface TeacherLogitsRequest {
  /** The teacher's checkpoint directory (model.json + weights.bin): part of the cache key. */
  teacherModelDir: string;
  /** Loads the teacher; only called on a cache miss. */
  loadTeacher: () => tf.LayersModel;
  /** Normalisation the teacher was trained with. */
  normalisation: Normalisation;
  data: DataSplit;
  classes: number;
  /** For the file name, e.g. "mnist-train". */
  label: string;
  cacheDir?: string;
  batch?: number;
  log?: (line: string) => void;
}

export interface TeacherLogits {
  logits: Float32Array;
  path: string;
  /** True when read from the cache, false when computed (and then cached). */
  hit: boolean;
  key: string;
}

function sha256(...parts: (Uint8Array | string)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/**
 * The key of a teacher's logits on a data set: sha256 over the teacher's
 * topology and weights, the normalisation, and the images themselves.
 */
export function teacherLogitsKey(req: TeacherLogitsRequest): string {
  const modelJson = readFileSync(join(req.teacherModelDir, "model.json"));
  const weights = readFileSync(join(req.teacherModelDir, "weights.bin"));
  const { data } = req;
  return sha256(
    modelJson,
    weights,
    JSON.stringify(req.normalisation),
    JSON.stringify({ shape: data.shape, count: data.count, classes: req.classes }),
    data.images.subarray(0, data.count * data.shape[0] * data.shape[1] * data.shape[2]),
  );
}

/** Teacher logits [count, classes] in inference mode, on un-augmented images. */
export function computeLogits(
  model: tf.LayersModel,
  data: DataSplit,
  norm: Normalisation,
  classes: number,
  batch = 256,
): Float32Array {
  const [h, w, c] = data.shape;
  const px = h * w * c;
  const out = new Float32Array(data.count * classes);
  for (let from = 0; from < data.count; from += batch) {
    const n = Math.min(batch, data.count - from);
    const rows = tf.tidy(() => {
      const x = normaliseBatch(
        data.images.subarray(from * px, (from + n) * px),
        n,
        data.shape,
        norm,
      );
      const y = model.predict(x) as tf.Tensor;
      if (y.shape[1] !== classes) {
        throw new Error(`teacher outputs ${y.shape[1]} classes, the student needs ${classes}`);
      }
      return y.dataSync() as Float32Array;
    });
    out.set(rows, from * classes);
  }
  return out;
}

/**
 * Teacher logits for a data set, computed once per (teacher checkpoint, data)
 * and cached on disk as raw float32 (`<label>-<key16>.f32` + a JSON sidecar),
 * so distillation costs only the student's training.
 */
export function teacherLogitsCached(req: TeacherLogitsRequest): TeacherLogits {
  const dir = req.cacheDir ?? DEFAULT_KD_CACHE_DIR;
  const key = teacherLogitsKey(req);
  const path = join(dir, `${req.label}-n${req.data.count}-${key.slice(0, 16)}.f32`);
  const expectBytes = req.data.count * req.classes * 4;
  if (existsSync(path)) {
    const buf = readFileSync(path);
    if (buf.length === expectBytes) {
      req.log?.(`teacher logits: cache hit ${path}`);
      return {
        logits: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)),
        path,
        hit: true,
        key,
      };
    }
    req.log?.(
      `teacher logits: ${path} has ${buf.length} bytes, expected ${expectBytes}; recomputing`,
    );
  }
  req.log?.(`teacher logits: computing for ${req.data.count} images (once; cached in ${dir})`);
  const t0 = performance.now();
  const model = req.loadTeacher();
  const logits = computeLogits(model, req.data, req.normalisation, req.classes, req.batch);
  model.dispose();
  req.log?.(`teacher logits: computed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(path, new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength));
  writeJsonAtomic(`${path}.json`, {
    key,
    teacher: req.teacherModelDir,
    label: req.label,
    count: req.data.count,
    classes: req.classes,
    normalisation: req.normalisation,
    createdAt: new Date().toISOString(),
  });
  return { logits, path, hit: false, key };
}
