import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import Ajv, { type ErrorObject } from "ajv";
import type { SignGrad } from "../layers";
import { REPO_ROOT } from "./run";
import type { LrSchedule } from "./trainer";

/** Directory of the training recipes (`pnpm train --config <name>`). */
export const TRAIN_CONFIGS_DIR = join(REPO_ROOT, "configs", "train");

/** A training recipe: defaults for `pnpm train` flags (flags given on the command line win). */
export interface TrainConfig {
  description?: string;
  model?: string;
  teacher?: string;
  lambda?: number;
  T?: number;
  t2Scaling?: boolean;
  epochs?: number;
  batch?: number;
  microBatch?: number;
  lr?: number;
  lrSchedule?: LrSchedule;
  weightDecay?: number;
  signGrad?: SignGrad;
  ema?: number;
  poolFirst?: boolean;
  seed?: number;
  width?: number;
  augment?: boolean;
  limit?: number;
  val?: number;
  out?: string;
}

type Validator = ((d: unknown) => boolean) & { errors?: ErrorObject[] | null };
let validator: Validator | undefined;

function describe(e: ErrorObject): string {
  const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, ".") : "(top level)";
  if (e.keyword === "additionalProperties") {
    return `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  }
  return `field ${at} ${e.message}`;
}

/** Loads and validates `configs/train/<name>.json` or a path; relative paths inside resolve from the repo root. */
export function loadTrainConfig(nameOrPath: string): TrainConfig {
  // a path (from the working directory), or a recipe name under configs/train/
  const candidates = isAbsolute(nameOrPath)
    ? [nameOrPath]
    : [
        resolve(nameOrPath),
        join(TRAIN_CONFIGS_DIR, nameOrPath.endsWith(".json") ? nameOrPath : `${nameOrPath}.json`),
      ];
  const path = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (!path)
    throw new Error(
      `--config ${nameOrPath}: no such file (looked for ${candidates.join(" and ")})`,
    );
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
  if (!validator) {
    const schema = JSON.parse(
      readFileSync(join(TRAIN_CONFIGS_DIR, "schema.json"), "utf8"),
    ) as object;
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema) as Validator;
  }
  if (!validator(data)) {
    throw new Error(`${path}: ${(validator.errors ?? []).map(describe).join("; ")}`);
  }
  const c = data as TrainConfig & { $schema?: string };
  delete c.$schema;
  for (const k of ["teacher", "out"] as const) {
    const v = c[k];
    if (v && (v.includes("/") || v.startsWith(".")) && !v.startsWith("/"))
      c[k] = resolve(REPO_ROOT, v);
  }
  return c;
}
