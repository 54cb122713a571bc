/**
 * ms per training step of zoo models on one backend, optionally with a per-kernel profile:
 *   npx tsx training/src/backend/step_bench_main.ts --models cifarnet2,vgg16@0.25 --batch 64
 * Prints one JSON line per model (after the table) for scripts comparing runs.
 */

import * as tf from "@tensorflow/tfjs";
import { Command } from "commander";
import { type BackendChoice, initBackend } from "./init";
import { formatProfile } from "./profile";
import { profileTrainSteps, type StepModel, timeDataParallel, timeTrainSteps } from "./step_bench";

/** "name" or "name@width" -> StepModel. */
export function parseStepModel(s: string): StepModel {
  const [model, w] = s.split("@");
  if (!model) throw new Error(`--models: empty model name in "${s}"`);
  if (w === undefined) return { model };
  const width = Number(w);
  if (!(width > 0)) throw new Error(`--models: width in "${s}" must be a positive number`);
  return { model, width };
}

async function main(argv: string[]): Promise<void> {
  const opts = new Command()
    .name("step-bench")
    .option(
      "--models <list>",
      "comma-separated zoo models, name[@width]",
      "cifarnet2,cifarnet2-typical,mnistnet3,vgg16@0.25",
    )
    .option("--batch <n>", "batch size", "64")
    .option("--steps <n>", "timed steps per model (median reported)", "5")
    .option("--warmup <n>", "untimed steps first", "1")
    .option("--backend <name>", "wasm | cpu | node | auto", "wasm")
    .option("--profile", "also print per-kernel self time over the timed steps")
    .option("--parallel <workers>", "instead: gradients of a batch on this thread vs DataParallel")
    .parse(argv)
    .opts<{
      models: string;
      batch: string;
      steps: string;
      warmup: string;
      backend: string;
      profile?: boolean;
      parallel?: string;
    }>();
  const batch = Number(opts.batch);
  const steps = Number(opts.steps);
  const warmup = Number(opts.warmup);
  for (const [k, v] of Object.entries({ batch, steps, warmup }))
    if (!Number.isInteger(v) || v < (k === "warmup" ? 0 : 1))
      throw new Error(`--${k}: expected an integer, got ${v}`);
  await initBackend({ backend: opts.backend as BackendChoice });
  for (const m of opts.models.split(",").map(parseStepModel)) {
    if (opts.parallel !== undefined) {
      const workers = Number(opts.parallel);
      if (!Number.isInteger(workers) || workers < 1)
        throw new Error(`--parallel: expected a positive integer, got ${opts.parallel}`);
      const p = await timeDataParallel(m, batch, steps, workers);
      console.log(
        `${p.label.padEnd(22)} batch ${batch}: one thread ${p.singleMs.toFixed(1)} ms, ${workers} workers ${p.parallelMs.toFixed(1)} ms, speedup ${p.speedup.toFixed(2)}x`,
      );
      console.log(JSON.stringify(p));
      continue;
    }
    const t = timeTrainSteps(m, { batch, steps, warmup });
    console.log(
      `${t.label.padEnd(22)} batch ${batch}: median ${t.medianMs.toFixed(1)} ms/step (min ${t.minMs.toFixed(1)}, ${steps} steps), CPU ${t.cpuMedianMs.toFixed(1)} ms/step`,
    );
    console.log(JSON.stringify({ ...t, backend: tf.getBackend() }));
    if (opts.profile) console.log(formatProfile(await profileTrainSteps(m, batch, steps), 25));
  }
}

main(process.argv).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
