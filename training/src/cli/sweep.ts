import { Command } from "commander";
import { BACKEND_CHOICES } from "../backend";
import { SIGN_GRADS, type SignGrad } from "../layers";
import { parseLambdas, runSweep } from "../sweep/sweep";
import { abortOnCtrlC, parseChoice, parseEmaDecay, parseNumber, runMain } from "./common";

const program = new Command()
  .name("pnpm sweep")
  .description(
    "Accuracy vs KD weight lambda (paper Fig. 6a): one training per lambda into <out>/lambda-<x>/, resumable (rerun the same command to continue), then sweep.csv + sweep.png.",
  )
  .requiredOption("--model <name>", "student model (zoo name; required)")
  .requiredOption(
    "--teacher <name|dir>",
    "teacher checkpoint (run directory or runs/<name>, checkpoints/<name>; required)",
  )
  .requiredOption(
    "--lambda <list>",
    'lambdas: "0,0.1,0.5,1" or a range "0:1:0.1" (required)',
    parseLambdas,
  )
  .option("--T <x>", "KD temperature", parseNumber("--T", { min: Number.MIN_VALUE }), 10)
  .option("--t2-scaling", "multiply the soft term by T^2 (Hinton)", false)
  .option("--epochs <n>", "epochs per run", parseNumber("--epochs", { min: 1, integer: true }), 10)
  .option("--batch <n>", "batch size", parseNumber("--batch", { min: 1, integer: true }), 128)
  .option(
    "--micro-batch <n>",
    "gradient accumulation micro-batch",
    parseNumber("--micro-batch", { min: 1, integer: true }),
  )
  .option("--lr <x>", "Adam learning rate", parseNumber("--lr", { min: Number.MIN_VALUE }), 1e-3)
  .option(
    "--lr-schedule <s>",
    "constant | cosine",
    parseChoice("--lr-schedule", ["constant", "cosine"] as const),
    "cosine",
  )
  .option(
    "--weight-decay <x>",
    "decoupled (AdamW) weight decay of the kernels, per unit learning rate (0 = plain Adam)",
    parseNumber("--weight-decay", { min: 0 }),
    0,
  )
  .option(
    "--sign-grad <g>",
    "backward pass of the student's Sign: ste (hard-tanh straight-through) or approx (ApproxSign); see pnpm train --help",
    parseChoice("--sign-grad", SIGN_GRADS),
    "ste",
  )
  .option(
    "--ema <decay>",
    "moving average of the weights with this decay per step (0 = off); see pnpm train --help",
    parseEmaDecay("--ema"),
    0,
  )
  .option(
    "--pool-first",
    "train with each maxpool before its block's activation (same function, another gradient); see pnpm train --help",
    false,
  )
  .option(
    "--seed <n>",
    "seed (same for every lambda)",
    parseNumber("--seed", { min: 0, integer: true }),
    1,
  )
  .option(
    "--width <x>",
    "student width multiplier",
    parseNumber("--width", { min: Number.MIN_VALUE }),
    1,
  )
  .option("--out <dir>", "sweep directory (default runs/sweep-<model>-<teacher>-T<T>)")
  .option(
    "--backend <b>",
    BACKEND_CHOICES.join(" | "),
    parseChoice("--backend", BACKEND_CHOICES),
    "auto",
  )
  .option(
    "--workers <n>",
    "gradient worker threads per run (see pnpm train --help); default 1",
    parseNumber("--workers", { min: 1, integer: true }),
    1,
  )
  .option(
    "--limit <n>",
    "only the first n training images",
    parseNumber("--limit", { min: 2, integer: true }),
  )
  .option("--augment", "random crop + flip (default on for CIFAR-10)")
  .option("--no-augment", "no augmentation")
  .option("--kd-cache <dir>", "teacher-logit cache directory");

interface SweepCli {
  model: string;
  teacher: string;
  lambda: number[];
  T: number;
  t2Scaling: boolean;
  epochs: number;
  batch: number;
  microBatch?: number;
  lr: number;
  lrSchedule: "constant" | "cosine";
  weightDecay: number;
  signGrad: SignGrad;
  ema: number;
  poolFirst: boolean;
  seed: number;
  width: number;
  out?: string;
  backend: (typeof BACKEND_CHOICES)[number];
  workers: number;
  limit?: number;
  augment?: boolean;
  kdCache?: string;
}

runMain(async () => {
  program.parse();
  const o = program.opts<SweepCli>();
  const signal = abortOnCtrlC();
  const r = await runSweep({
    model: o.model,
    teacher: o.teacher,
    lambdas: o.lambda,
    T: o.T,
    t2Scaling: o.t2Scaling,
    epochs: o.epochs,
    batch: o.batch,
    microBatch: o.microBatch,
    lr: o.lr,
    lrSchedule: o.lrSchedule,
    weightDecay: o.weightDecay,
    signGrad: o.signGrad,
    ema: o.ema,
    poolFirst: o.poolFirst,
    seed: o.seed,
    width: o.width,
    out: o.out,
    backend: o.backend,
    workers: o.workers,
    limit: o.limit,
    augment: o.augment,
    kdCacheDir: o.kdCache,
    signal,
  });
  console.log("lambda  best-epoch  val-acc  test-acc");
  for (const row of r.rows) {
    const p = (x: number | null) => (x === null ? "   -   " : `${(100 * x).toFixed(2)}%`);
    console.log(
      `${String(row.lambda).padEnd(7)} ${String(row.bestEpoch ?? "-").padEnd(11)} ${p(row.bestValAcc)}  ${p(row.testAcc)}`,
    );
  }
  console.log(`wrote ${r.csv}${r.rows.some((x) => x.testAcc !== null) ? ` and ${r.png}` : ""}`);
  if (r.stopped) {
    process.stderr.write("sweep stopped; run the same command again to continue\n");
    process.exit(130);
  }
});
