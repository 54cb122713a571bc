import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { ExportFormatError } from "./errors";
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION, type ModelExport, RING_BITS } from "./types";

const nonNegInt = { type: "integer", minimum: 0 } as const;
const posInt = { type: "integer", minimum: 1 } as const;
const pair = { type: "array", items: posInt, minItems: 2, maxItems: 2 } as const;
const shape3 = { type: "array", items: posInt, minItems: 3, maxItems: 3 } as const;
const fracBits = { type: "integer", minimum: 0, maximum: 31 } as const;

const tensorRef = {
  type: "object",
  additionalProperties: false,
  required: ["offset", "length", "shape", "fracBits"],
  properties: {
    offset: nonNegInt,
    length: nonNegInt,
    shape: { type: "array", items: posInt, minItems: 1, maxItems: 4 },
    fracBits,
  },
} as const;

const padding = {
  type: "object",
  additionalProperties: false,
  required: ["top", "bottom", "left", "right"],
  properties: { top: nonNegInt, bottom: nonNegInt, left: nonNegInt, right: nonNegInt },
} as const;

const baseProps = {
  name: { type: "string", minLength: 1 },
  inShape: shape3,
  outShape: shape3,
  inDomain: { enum: ["int", "bits"] },
  outDomain: { enum: ["int", "bits"] },
  outFracBits: fracBits,
} as const;
const baseRequired = [
  "kind",
  "name",
  "inShape",
  "outShape",
  "inDomain",
  "outDomain",
  "outFracBits",
];

const linearProps = {
  ...baseProps,
  weights: tensorRef,
  bias: tensorRef,
  outShift: { type: "integer", minimum: 0, maximum: 31 },
  outBoundBits: { type: "integer", minimum: 1, maximum: 31 },
} as const;
const linearRequired = [...baseRequired, "weights", "bias", "outShift"];

function layer(kind: string, props: object, required: string[]): object {
  return {
    type: "object",
    additionalProperties: false,
    required,
    properties: { kind: { const: kind }, ...props },
  };
}

const windowProps = { ...linearProps, kernel: pair, strides: pair, padding } as const;
const windowRequired = [...linearRequired, "kernel", "strides", "padding"];

/** JSON Schema (draft-07) of model.json, format version 1. */
export const modelExportSchema = {
  $id: "https://cbnn.local/schemas/model-export-v1.json",
  type: "object",
  additionalProperties: false,
  required: [
    "format",
    "version",
    "name",
    "ringBits",
    "input",
    "classes",
    "layers",
    "blob",
    "source",
  ],
  properties: {
    format: { const: EXPORT_FORMAT },
    version: { const: EXPORT_FORMAT_VERSION },
    name: { type: "string", minLength: 1 },
    ringBits: { const: RING_BITS },
    input: {
      type: "object",
      additionalProperties: false,
      required: ["shape", "encoding", "dataset"],
      properties: { shape: shape3, encoding: { const: "uint8" }, dataset: { type: "string" } },
    },
    classes: { type: "array", items: { type: "string" }, minItems: 1 },
    layers: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["kind"],
        properties: { kind: { type: "string" } },
        discriminator: { propertyName: "kind" },
        oneOf: [
          layer("conv2d", windowProps, windowRequired),
          layer("depthwise2d", windowProps, windowRequired),
          layer("pointwise2d", linearProps, linearRequired),
          layer("dense", linearProps, linearRequired),
          layer("sign", baseProps, baseRequired),
          layer("relu", baseProps, baseRequired),
          layer(
            "maxpool",
            { ...baseProps, pool: pair, strides: pair, mode: { enum: ["or", "sum-sign", "max"] } },
            [...baseRequired, "pool", "strides", "mode"],
          ),
        ],
      },
    },
    blob: {
      type: "object",
      additionalProperties: false,
      required: ["file", "bytes", "sha256"],
      properties: {
        file: { type: "string", minLength: 1, pattern: "^[^/\\\\]+$" },
        bytes: nonNegInt,
        sha256: { type: "string", pattern: "^[0-9a-f]{64}$" },
      },
    },
    source: {
      type: "object",
      required: ["checkpoint", "dataset", "normalisation", "createdAt"],
      properties: {
        checkpoint: { type: "string" },
        dataset: { type: "string" },
        normalisation: {
          type: "object",
          required: ["mean", "std"],
          properties: {
            mean: { type: "array", items: { type: "number" } },
            std: { type: "array", items: { type: "number" } },
          },
        },
        createdAt: { type: "string" },
      },
    },
  },
} as const;

let compiled: ValidateFunction | undefined;
function validateSchema(json: unknown): { ok: boolean; errors: ErrorObject[] } {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: false, discriminator: true, strict: true });
    compiled = ajv.compile(modelExportSchema);
  }
  const ok = compiled(json);
  return { ok, errors: compiled.errors ?? [] };
}

/** "/layers/2/outShape" -> "layers[2].outShape" */
export function jsonPointerToField(pointer: string): string {
  let out = "";
  for (const part of pointer.split("/").slice(1)) {
    const p = part.replace(/~1/g, "/").replace(/~0/g, "~");
    out += /^\d+$/.test(p) ? `[${p}]` : out === "" ? p : `.${p}`;
  }
  return out === "" ? "(root)" : out;
}

function describe(e: ErrorObject): { field: string; message: string } {
  let path = e.instancePath;
  let message = e.message ?? "is invalid";
  const params = e.params as Record<string, unknown>;
  if (e.keyword === "required") path += `/${String(params.missingProperty)}`;
  if (e.keyword === "additionalProperty" || e.keyword === "additionalProperties") {
    path += `/${String(params.additionalProperty)}`;
    message = "is not a known field";
  }
  if (e.keyword === "const") message = `must be ${JSON.stringify(params.allowedValue)}`;
  if (e.keyword === "enum") {
    message = `must be one of ${JSON.stringify(params.allowedValues)}`;
  }
  if (e.keyword === "discriminator") {
    path += "/kind";
    message =
      "is not a known layer kind (conv2d, depthwise2d, pointwise2d, dense, sign, relu, maxpool)";
  }
  return { field: jsonPointerToField(path), message };
}

/**
 * Checks format and version first (so a newer file gets a clear message),
 * then the JSON Schema. Throws {@link ExportFormatError} with
 * field "<file>: <path>". Does not check cross-field semantics: see
 * {@link checkExport}.
 */
export function validateModelJson(json: unknown, file = "model.json"): ModelExport {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ExportFormatError(`${file}: (root)`, "must be a JSON object");
  }
  const o = json as Record<string, unknown>;
  if (o.format !== EXPORT_FORMAT) {
    throw new ExportFormatError(
      `${file}: format`,
      `is ${JSON.stringify(o.format)}, expected "${EXPORT_FORMAT}" (not a cbnn model export)`,
    );
  }
  const v = o.version;
  if (typeof v === "number" && Number.isInteger(v) && v > EXPORT_FORMAT_VERSION) {
    throw new ExportFormatError(
      `${file}: version`,
      `is ${v}: this export was made by a newer cbnn (this build reads version ${EXPORT_FORMAT_VERSION}); update cbnn`,
    );
  }
  if (v !== EXPORT_FORMAT_VERSION) {
    throw new ExportFormatError(
      `${file}: version`,
      `unknown format version ${JSON.stringify(v)} (this build reads version ${EXPORT_FORMAT_VERSION})`,
    );
  }
  const res = validateSchema(json);
  if (!res.ok) {
    const e = res.errors[0];
    const d = e ? describe(e) : { field: "(root)", message: "does not match the schema" };
    throw new ExportFormatError(`${file}: ${d.field}`, d.message);
  }
  return json as unknown as ModelExport;
}
