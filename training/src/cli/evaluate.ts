import { Command } from "commander";
import { BACKEND_CHOICES, initBackend } from "../backend";
import { evaluateCheckpoint, evaluateExport } from "../trainer/evaluate";
import { parseChoice, parseNumber, runMain } from "./common";

const program = new Command()
  .name("pnpm evaluate")
  .description(
    "Test-set accuracy: --checkpoint <dir> for the float (tfjs) model, --export <dir> for the fixed-point export (plaintext reference evaluator, what secure inference computes), printed next to its float model's.",
  )
  .option("--checkpoint <dir>", "run directory (best checkpoint) or one checkpoint directory")
  .option(
    "--latest",
    "with --checkpoint: evaluate the latest checkpoint instead of the best",
    false,
  )
  .option("--export <dir>", "export directory (model.json + weights.bin)")
  .option(
    "--limit <n>",
    "only the first n test images",
    parseNumber("--limit", { min: 1, integer: true }),
  )
  .option(
    "--backend <b>",
    BACKEND_CHOICES.join(" | "),
    parseChoice("--backend", BACKEND_CHOICES),
    "auto",
  )
  .option("--json", "print the result as JSON", false);

interface EvalCli {
  checkpoint?: string;
  latest: boolean;
  export?: string;
  limit?: number;
  backend: (typeof BACKEND_CHOICES)[number];
  json: boolean;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

runMain(async () => {
  program.parse();
  const o = program.opts<EvalCli>();
  if (!o.checkpoint && !o.export)
    throw new Error("give --checkpoint <dir> or --export <dir> (see --help)");
  if (o.latest && !o.checkpoint)
    throw new Error("--latest picks a training checkpoint: it needs --checkpoint <dir>");
  await initBackend({ backend: o.backend });
  if (o.checkpoint) {
    const r = await evaluateCheckpoint(o.checkpoint, {
      which: o.latest ? "latest" : "best",
      limit: o.limit,
    });
    if (o.json) console.log(JSON.stringify(r));
    else
      console.log(
        `${r.model} float accuracy on ${r.count} ${r.dataset} test images: ${pct(r.acc)} (${r.checkpoint})`,
      );
  }
  if (o.export) {
    const tty = Boolean(process.stderr.isTTY);
    const r = await evaluateExport(o.export, {
      limit: o.limit,
      onProgress: (d, t) => {
        if (tty) process.stderr.write(`\rfixed-point evaluation ${d}/${t}${d === t ? "\n" : ""}`);
      },
    });
    if (o.json) console.log(JSON.stringify(r));
    else {
      console.log(
        `fixed-point accuracy on ${r.count} ${r.dataset} test images: ${pct(r.acc)} (${r.exportDir})`,
      );
      if (r.float) {
        console.log(
          `float accuracy of its checkpoint:          ${pct(r.float.acc)} (difference ${((r.acc - r.float.acc) * 100).toFixed(2)} points, argmax agreement ${pct(r.float.argmaxAgreement)})`,
        );
      } else console.log(r.floatNote);
    }
  }
});
