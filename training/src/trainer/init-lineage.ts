/**
 * What a run started with `--init` records about the weights it started from:
 * their hash, and, when they come from a `pnpm train` run, that run's own
 * run.json and how many epochs (and seconds) of training the weights hold.
 * A continued model's card counts those epochs, and its reproduce command
 * re-runs the chain, instead of pretending the continuation started from
 * scratch.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { RUN_JSON, readJsonFile, STATE_JSON, type TrainState } from "../checkpoint/checkpoint";
import type { TrainInit, TrainRunJson } from "../checkpoint/load";

/** Hex sha256 of a file (weights are recorded by their hash). */
export function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/**
 * Describes the checkpoint directory `modelDir` (model.json + weights.bin) a
 * run starts from. Its run directory is the parent when that holds run.json;
 * the epochs and their seconds come from the checkpoint's state.json (its
 * history up to that checkpoint; a shipped best checkpoint keeps it), plus
 * whatever that run itself was initialised with.
 */
export function describeInit(modelDir: string): TrainInit {
  const init: TrainInit = {
    checkpoint: modelDir,
    weightsSha256: sha256File(join(modelDir, "weights.bin")),
  };
  const runDir = dirname(modelDir);
  const statePath = join(modelDir, STATE_JSON);
  if (!existsSync(join(runDir, RUN_JSON)) || !existsSync(statePath)) return init;
  const run = readJsonFile<TrainRunJson>(join(runDir, RUN_JSON));
  const { epoch, history } = readJsonFile<Pick<TrainState, "epoch" | "history">>(statePath);
  const ownSeconds = history.reduce((s, h) => s + h.seconds, 0);
  return {
    ...init,
    run,
    epochs: (run.init?.epochs ?? 0) + epoch,
    trainSeconds: (run.init?.trainSeconds ?? 0) + ownSeconds,
  };
}
