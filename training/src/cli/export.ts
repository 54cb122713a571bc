import { Command } from "commander";
import { BACKEND_CHOICES, initBackend } from "../backend";
import { exportCheckpoint } from "../checkpoint/export";
import { parseChoice, parseNumber, runMain } from "./common";

const program = new Command()
  .name("pnpm export")
  .description(
    "Fixed-point export of a trained checkpoint: normalisation and batch norm fused, Sign outputs as bits. Prints the per-layer range/headroom report and refuses a --frac-bits that can overflow the 32-bit ring.",
  )
  .requiredOption(
    "--checkpoint <dir>",
    "run directory (best checkpoint) or one checkpoint directory",
  )
  .requiredOption("--out <dir>", "export directory to write (model.json + weights.bin)")
  .option(
    "--frac-bits <n>",
    "fractional bits (default 12)",
    parseNumber("--frac-bits", { min: 0, max: 24, integer: true }),
  )
  .option(
    "--calibration <n>",
    "training images used to measure activation ranges",
    parseNumber("--calibration", { min: 1, integer: true }),
    500,
  )
  .option("--latest", "export the latest checkpoint instead of the best", false)
  .option(
    "--backend <b>",
    BACKEND_CHOICES.join(" | "),
    parseChoice("--backend", BACKEND_CHOICES),
    "auto",
  );

interface ExportCli {
  checkpoint: string;
  out: string;
  fracBits?: number;
  calibration: number;
  latest: boolean;
  backend: (typeof BACKEND_CHOICES)[number];
}

runMain(async () => {
  program.parse();
  const o = program.opts<ExportCli>();
  const { tf } = await initBackend({ backend: o.backend });
  const r = await exportCheckpoint(tf, {
    checkpoint: o.checkpoint,
    out: o.out,
    fracBits: o.fracBits,
    calibration: o.calibration,
    which: o.latest ? "latest" : "best",
  });
  console.log(r.reportText);
  console.log(
    `wrote ${r.out} (${r.model.layers.length} layers, ${r.weights.length} int32 weights)`,
  );
});
