import { Command } from "commander";
import { BACKEND_CHOICES } from "../backend";
import { SIGN_GRADS, type SignGrad } from "../layers";
import { DEFAULT_RUNS_DIR, runTraining } from "../trainer/run";
import { loadTrainConfig } from "../trainer/train-config";
import { abortOnCtrlC, parseChoice, parseEmaDecay, parseNumber, runMain } from "./common";

const program = new Command()
  .name("pnpm train")
  .description(
    "Train a teacher (--model vgg16) or distill a BNN student (--teacher ...). Checkpoints every epoch; Ctrl-C saves and stops; --resume continues bit-identically.",
  )
  .option(
    "--config <name|file>",
    "training recipe from configs/train (its values are defaults; flags given here win)",
  )
  .option(
    "--model <name>",
    "zoo model (configs/models) or config path; default with --teacher: cifarnet2 (CIFAR-10) / mnistnet3 (MNIST)",
  )
  .option(
    "--teacher <name|dir>",
    "teacher checkpoint: a run directory, or a name looked up as runs/<name>, checkpoints/<name>",
  )
  .option(
    "--lambda <x>",
    "KD weight of the hard-label loss, eq. (5); 1 = no KD",
    parseNumber("--lambda", { min: 0, max: 1 }),
    0.1,
  )
  .option("--T <x>", "KD temperature", parseNumber("--T", { min: Number.MIN_VALUE }), 10)
  .option("--t2-scaling", "multiply the soft term by T^2 (Hinton)", false)
  .option("--epochs <n>", "epochs", parseNumber("--epochs", { min: 1, integer: true }), 10)
  .option("--batch <n>", "batch size", parseNumber("--batch", { min: 1, integer: true }), 128)
  .option(
    "--micro-batch <n>",
    "gradient accumulation: micro-batch size (default = --batch)",
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
    "backward pass of the students' Sign: ste = hard-tanh straight-through (1 where |x| <= 1), approx = Bi-Real Net's ApproxSign (2 - 2|x| there); the forward pass and the export are the same",
    parseChoice("--sign-grad", SIGN_GRADS),
    "ste",
  )
  .option(
    "--ema <decay>",
    "keep an exponential moving average of the weights with this decay per step (e.g. 0.999; 0 = off): validation picks the best epoch on the averaged weights, and the checkpoints, export and --init use them",
    parseEmaDecay("--ema"),
    0,
  )
  .option(
    "--pool-first",
    "train with each maxpool before its block's activation instead of after it: the same function (Sign and ReLU commute with max), but max pooling's gradient goes to the largest pre-activation instead of the first of the tied Sign outputs; the checkpoints and the export are the usual order",
    false,
  )
  .option(
    "--seed <n>",
    "seed for initialisers, batch order, augmentation, dropout",
    parseNumber("--seed", { min: 0, integer: true }),
    1,
  )
  .option(
    "--width <x>",
    "width multiplier for hidden layers",
    parseNumber("--width", { min: Number.MIN_VALUE }),
    1,
  )
  .option("--out <dir>", `run directory (default ${DEFAULT_RUNS_DIR}/<model>[-w<width>][-kd-...])`)
  .option("--resume", "continue the run in --out from its latest checkpoint", false)
  .option(
    "--init <run|dir>",
    "start a new run from these weights (a run's best checkpoint, a checkpoint dir, or a name under runs/ or checkpoints/) with a fresh optimizer and schedule: more epochs for a finished run, or fine-tuning",
  )
  .option(
    "--backend <b>",
    BACKEND_CHOICES.join(" | "),
    parseChoice("--backend", BACKEND_CHOICES),
    "auto",
  )
  .option(
    "--workers <n>",
    "gradient worker threads, one wasm instance each (data parallelism; 2 on an idle 2-core machine). Default 1: this thread",
    parseNumber("--workers", { min: 1, integer: true }),
    1,
  )
  .option(
    "--limit <n>",
    "use only the first n training images (quick runs)",
    parseNumber("--limit", { min: 2, integer: true }),
  )
  .option(
    "--val <n>",
    "validation hold-out: the last n training images (default min(5000, 10%))",
    parseNumber("--val", { min: 1, integer: true }),
  )
  .option("--augment", "random crop + flip (default on for CIFAR-10)")
  .option("--no-augment", "no augmentation")
  .option(
    "--kd-cache <dir>",
    "teacher-logit cache directory (default training/cache/teacher-logits)",
  )
  .option("--no-test", "skip the test-set evaluation of the best checkpoint at the end");

interface TrainCli {
  config?: string;
  model?: string;
  teacher?: string;
  lambda: number;
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
  resume: boolean;
  init?: string;
  backend: (typeof BACKEND_CHOICES)[number];
  workers: number;
  limit?: number;
  val?: number;
  augment?: boolean;
  kdCache?: string;
  test: boolean;
}

runMain(async () => {
  program.parse();
  const o = program.opts<TrainCli>();
  if (o.config) {
    const cfg = loadTrainConfig(o.config);
    const target = o as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(cfg)) {
      if (k !== "description" && program.getOptionValueSource(k) !== "cli") target[k] = v;
    }
  }
  const signal = abortOnCtrlC();
  const r = await runTraining({
    model: o.model,
    teacher: o.teacher ?? null,
    lambda: o.lambda,
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
    resume: o.resume,
    init: o.init ?? null,
    backend: o.backend,
    workers: o.workers,
    limit: o.limit,
    valCount: o.val,
    augment: o.augment,
    kdCacheDir: o.kdCache,
    testAtEnd: o.test,
    signal,
  });
  if (r.stopped) {
    process.stderr.write(`stopped; resume with: pnpm train ... --out ${r.runDir} --resume\n`);
    process.exit(130);
  }
});
