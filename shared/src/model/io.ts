import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { checkExport } from "./check";
import { ExportFormatError } from "./errors";
import { validateModelJson } from "./schema";
import type { ModelExport } from "./types";

export const MODEL_JSON = "model.json";

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** int32 values -> little-endian bytes (independent of the host's byte order). */
export function encodeWeights(weights: Int32Array): Uint8Array {
  const out = new Uint8Array(weights.length * 4);
  const dv = new DataView(out.buffer);
  for (let k = 0; k < weights.length; k++) dv.setInt32(k * 4, weights[k], true);
  return out;
}

/** Little-endian bytes -> int32 values. */
export function decodeWeights(bytes: Uint8Array): Int32Array {
  const n = Math.floor(bytes.length / 4);
  const out = new Int32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let k = 0; k < n; k++) out[k] = dv.getInt32(k * 4, true);
  return out;
}

/**
 * Validates a parsed model.json and its blob: format/version, JSON Schema,
 * blob length and sha256, tensor refs, shape/domain/fracBits chaining.
 * Throws ExportFormatError naming the field.
 */
export function parseExport(
  json: unknown,
  blobBytes: Uint8Array,
  file = MODEL_JSON,
): { model: ModelExport; weights: Int32Array } {
  const model = validateModelJson(json, file);
  const blobFile = model.blob.file;
  if (blobBytes.length !== model.blob.bytes) {
    throw new ExportFormatError(
      `${blobFile}`,
      `is ${blobBytes.length} bytes but ${file}: blob.bytes says ${model.blob.bytes}${blobBytes.length < model.blob.bytes ? " (truncated)" : ""}`,
    );
  }
  if (blobBytes.length % 4 !== 0) {
    throw new ExportFormatError(
      `${file}: blob.bytes`,
      `${blobBytes.length} is not a multiple of 4 (int32)`,
    );
  }
  const hash = sha256Hex(blobBytes);
  if (hash !== model.blob.sha256) {
    throw new ExportFormatError(
      `${blobFile}`,
      `sha256 ${hash} does not match ${file}: blob.sha256 ${model.blob.sha256} (corrupted or edited)`,
    );
  }
  const weights = decodeWeights(blobBytes);
  checkExport(model, weights.length, file);
  return { model, weights };
}

/**
 * A hint for a directory without model.json: a shipped or trained checkpoint
 * directory (latest.json) keeps its export in export/, or has none yet.
 */
function exportHint(dir: string): string {
  if (existsSync(dir) && statSync(dir).isFile())
    return `; ${dir} is a file: give the export's directory${basename(dir) === MODEL_JSON ? ` (${dirname(dir)})` : ""}`;
  if (existsSync(join(dir, "export", MODEL_JSON))) return `; did you mean ${join(dir, "export")}?`;
  if (existsSync(join(dir, "latest.json")))
    return `; ${dir} is a training checkpoint, not an export: make one with pnpm export --checkpoint ${dir} --out <dir>`;
  return "";
}

/** Loads and fully validates an export directory (model.json + blob). */
export async function loadExport(
  dir: string,
): Promise<{ model: ModelExport; weights: Int32Array }> {
  const jsonPath = join(dir, MODEL_JSON);
  let text: string;
  try {
    text = await readFile(jsonPath, "utf8");
  } catch (e) {
    throw new ExportFormatError(jsonPath, `cannot read: ${(e as Error).message}${exportHint(dir)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ExportFormatError(jsonPath, `is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json === "object" && json !== null && "modelTopology" in json) {
    throw new ExportFormatError(
      jsonPath,
      `is a tfjs training checkpoint (modelTopology), not a fixed-point export: make one with pnpm export --checkpoint ${dir} --out <dir>`,
    );
  }
  const model = validateModelJson(json, jsonPath);
  const blobPath = join(dir, model.blob.file);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(blobPath));
  } catch (e) {
    throw new ExportFormatError(blobPath, `cannot read: ${(e as Error).message}`);
  }
  try {
    return parseExport(json, bytes, jsonPath);
  } catch (e) {
    if (e instanceof ExportFormatError && e.field === model.blob.file) {
      throw new ExportFormatError(blobPath, e.message.slice(e.field.length + 2));
    }
    throw e;
  }
}

/**
 * Writes `model.json` and the blob into `dir` (created if needed). The blob's
 * byte count and sha256 in model.json are recomputed from `weights`. The model
 * is validated first, so an invalid export is never written.
 */
export async function saveExport(
  dir: string,
  model: ModelExport,
  weights: Int32Array,
): Promise<void> {
  const bytes = encodeWeights(weights);
  const full: ModelExport = {
    ...model,
    blob: { ...model.blob, bytes: bytes.length, sha256: sha256Hex(bytes) },
  };
  parseExport(JSON.parse(JSON.stringify(full)), bytes, "model (to save)");
  await mkdir(dir, { recursive: true });
  const blobPath = join(dir, full.blob.file);
  const jsonPath = join(dir, MODEL_JSON);
  await writeFile(`${blobPath}.tmp`, bytes);
  await rename(`${blobPath}.tmp`, blobPath);
  await writeFile(`${jsonPath}.tmp`, `${JSON.stringify(full, null, 2)}\n`);
  await rename(`${jsonPath}.tmp`, jsonPath);
}
