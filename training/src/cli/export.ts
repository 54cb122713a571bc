import { checkOutputDir } from "@cbnn/shared";
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
    "run directory (best checkpoint) or one checkpoint directory (required)",
  )
  .requiredOption("--out <dir>", "export directory to write (model.json + weights.bin; required)")
  .option(
    "--frac-bits <n>",
    "fractional bits (default 12)",
    parseNumber("--frac-bits", { min: 0, max: 24, integer: true }),
  )
  .option(
    "--presign-bits <n|none>",
    "cap on the proven |pre-sign value| of layers reading pixels or bits, in bits (1..30, default 28), recorded as outBoundBits; none = no cap (~30 bits, the older rule). Smaller caps make the secure MSB cheaper (b+1 bit planes, about 2b ANDs per value) and are what the opt-in cbnn MSB (secure-eval --msb cbnn) needs: it refuses bounds above 28 bits, and its mask r is a sum of (28-b)-bit randoms, so what it leaks shrinks with the bound (b = 28: r = 1, the helper learns |2x+1| exactly; b = 24: r in [1, 46]). The price is precision: the first layer's weights get fewer bits (argmax agreement with the float model measured on random nets: 24 bits within 0.2 points, 20 bits 3-5 points lower, 16 bits 29-41 points lower; docs/export-format.md); check the accuracy the export report prints.",
    parsePresignBits,
  )
  .option(
    "--calibration <n>",
    "training images used to measure activation ranges",
    parseNumber("--calibration", { min: 1, integer: true }),
    500,
  )
  .option(
    "--merge-separable",
    "merge each depthwise + pointwise pair into one standard conv (W = D x P): the same function with one linear layer, so one reshare round, less per pair, at kh*kw times the pointwise's multiplications and weights. The merged conv reads the sign bits directly, so it gets a proven bound and pre-sign precision like a first layer; on deep separable sign nets it agrees with the float model far better (docs/export-format.md)",
    false,
  )
  .option("--latest", "export the latest checkpoint instead of the best", false)
  .option(
    "--backend <b>",
    BACKEND_CHOICES.join(" | "),
    parseChoice("--backend", BACKEND_CHOICES),
    "auto",
  );

/**
 * `--presign-bits`: an integer 1..30, or "none" (no cap, passed on as null;
 * kept as "none" here because commander turns a parser's null into "").
 */
function parsePresignBits(v: string): number | "none" {
  if (v.trim().toLowerCase() === "none") return "none";
  return parseNumber("--presign-bits", { min: 1, max: 30, integer: true })(v);
}

interface ExportCli {
  checkpoint: string;
  out: string;
  fracBits?: number;
  presignBits?: number | "none";
  mergeSeparable: boolean;
  calibration: number;
  latest: boolean;
  backend: (typeof BACKEND_CHOICES)[number];
}

runMain(async () => {
  program.parse();
  const o = program.opts<ExportCli>();
  checkOutputDir(o.out, "--out");
  const { tf } = await initBackend({ backend: o.backend });
  const r = await exportCheckpoint(tf, {
    checkpoint: o.checkpoint,
    out: o.out,
    fracBits: o.fracBits,
    presignBits: o.presignBits === "none" ? null : o.presignBits,
    mergeSeparable: o.mergeSeparable,
    calibration: o.calibration,
    which: o.latest ? "latest" : "best",
  });
  console.log(r.reportText);
  console.log(
    `wrote ${r.out} (${r.model.layers.length} layers, ${r.weights.length} int32 weights)`,
  );
});
