/**
 * Model zoo configs: `configs/models/<name>.json`, validated by
 * `configs/models/schema.json` (ajv) plus the semantic checks below.
 * See docs/models.md for every network, layer by layer.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv, { type ErrorObject } from "ajv";

export type Activation = "sign" | "relu" | "none";

/** CONV block: conv (standard, or separable = depthwise kxk + pointwise 1x1) -> BN -> activation -> maxpool -> dropout. */
export interface ConvBlock {
  type: "conv";
  conv: "standard" | "separable";
  filters: number;
  /** Square kernel size. */
  kernel: number;
  /** Default 1. */
  stride?: number;
  /** TensorFlow "same" (default) or "valid". */
  padding?: "same" | "valid";
  /** Default: true when `bn` is false (a bias before BN is redundant). */
  bias?: boolean;
  bn: boolean;
  activation: Activation;
  /** Max pooling window (= stride), valid padding, after the activation. */
  maxpool?: number;
  /** Dropout rate after the block (training only). */
  dropout?: number;
}

/** FC block: (flatten, H,W,C order) -> dense -> BN -> activation -> dropout. */
export interface DenseBlock {
  type: "dense";
  units: number;
  bias?: boolean;
  bn: boolean;
  activation: Activation;
  dropout?: number;
}

/** ResNet basic block (teachers): conv3x3-BN-ReLU-conv3x3-BN + shortcut (1x1 conv + BN when shape changes), ReLU. */
export interface ResidualBlock {
  type: "residual";
  filters: number;
  stride?: number;
}

export interface GlobalAvgPoolBlock {
  type: "globalavgpool";
}

export type Block = ConvBlock | DenseBlock | ResidualBlock | GlobalAvgPoolBlock;

export interface ModelConfig {
  /** Lower-case name, equal to the config file's base name. */
  name: string;
  /** Students are BNNs (Sign); teachers are full-precision ReLU nets. */
  role: "student" | "teacher";
  dataset: "mnist" | "cifar10";
  /** [height, width, channels] of the normalised float input. */
  input: [number, number, number];
  classes: number;
  description?: string;
  /** Numbers stated by the paper, for comparison. */
  reference?: { params?: number };
  layers: Block[];
}

const here = dirname(fileURLToPath(import.meta.url));
/** Directory holding the zoo's config files. */
export const MODELS_DIR = resolve(here, "../../../configs/models");
const SCHEMA_FILE = "schema.json";

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
let validator: Validator | undefined;

function getValidator(): Validator {
  if (!validator) {
    const schema = JSON.parse(readFileSync(join(MODELS_DIR, SCHEMA_FILE), "utf8")) as object;
    const ajv = new Ajv({ allErrors: true, strict: false });
    validator = ajv.compile(schema) as Validator;
  }
  return validator;
}

/** Names of the zoo's models (config file base names), sorted. */
export function listModels(): string[] {
  return readdirSync(MODELS_DIR)
    .filter((f) => f.endsWith(".json") && f !== SCHEMA_FILE)
    .map((f) => basename(f, ".json"))
    .sort();
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return "invalid";
  // oneOf over block kinds produces one error per alternative; keep the most specific ones.
  const lines = errors
    .filter((e) => e.keyword !== "oneOf")
    .map((e) => {
      const where = e.instancePath || "(root)";
      const extra =
        e.keyword === "additionalProperties"
          ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
          : e.keyword === "enum"
            ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")})`
            : "";
      return `${where}: ${e.message}${extra}`;
    });
  return [...new Set(lines)].slice(0, 8).join("; ");
}

/**
 * Validates a parsed config (schema + semantics). `source` names the file in
 * error messages. Returns the config typed.
 */
export function validateModelConfig(data: unknown, source = "model config"): ModelConfig {
  const validate = getValidator();
  if (!validate(data)) {
    throw new Error(`${source}: ${formatErrors(validate.errors)}`);
  }
  const config = data as ModelConfig;
  const last = config.layers[config.layers.length - 1];
  if (last.type !== "dense" || last.activation !== "none" || last.bn) {
    throw new Error(
      `${source}: layers[${config.layers.length - 1}] must be the logits layer: a dense block with activation "none" and bn false`,
    );
  }
  if (last.units !== config.classes) {
    throw new Error(
      `${source}: layers[${config.layers.length - 1}].units is ${last.units} but classes is ${config.classes}`,
    );
  }
  let flat = false;
  config.layers.forEach((b, i) => {
    if (b.type === "dense" || b.type === "globalavgpool") flat = true;
    else if (flat) {
      throw new Error(`${source}: layers[${i}] (${b.type}) comes after the input was flattened`);
    }
    if (config.role === "student" && b.type === "residual") {
      throw new Error(`${source}: layers[${i}]: residual blocks are for teachers only`);
    }
  });
  return config;
}

/**
 * Loads a zoo config by name (case-insensitive, e.g. "CifarNet2" or
 * "cifarnet2-typical") or by a path to a JSON file.
 */
export function loadModelConfig(nameOrPath: string): ModelConfig {
  const looksLikePath = nameOrPath.endsWith(".json") || /[\\/]/.test(nameOrPath);
  let file: string;
  if (looksLikePath) {
    file = resolve(nameOrPath);
    if (!existsSync(file)) throw new Error(`model config file not found: ${file}`);
  } else {
    const known = listModels();
    const name = known.find((n) => n === nameOrPath.toLowerCase());
    if (!name) {
      throw new Error(`unknown model "${nameOrPath}"; known models: ${known.join(", ")}`);
    }
    file = join(MODELS_DIR, `${name}.json`);
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: cannot parse JSON: ${(e as Error).message}`);
  }
  const config = validateModelConfig(data, file);
  if (!looksLikePath && config.name !== basename(file, ".json")) {
    throw new Error(`${file}: name "${config.name}" does not match the file name`);
  }
  return config;
}
