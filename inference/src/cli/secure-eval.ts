import { writeFileSync } from "node:fs";
import { isDatasetName } from "@cbnn/datasets";
import { prepareOutputFile } from "@cbnn/shared";
import { Command, Option } from "commander";
import type { MsbChoice } from "../layers/runner";
import { runLocalEval } from "../runtime/local";
import type { CbnnOpen, Truncation } from "../runtime/party";
import { formatReport, progressPrinter } from "../runtime/report";
import { type NetName, netProfile } from "../transport/shaping";
import { partyName } from "../transport/ws";
import { CBNN_OPEN_HELP, MSB_HELP, TRUNCATION_HELP } from "./help";

const program = new Command()
  .name("pnpm secure-eval")
  .description(
    "Secure evaluation with three local party processes over mutual-TLS WebSockets on loopback (throwaway certificates), or with the hosts and certificates of a parties config.",
  )
  .requiredOption(
    "--export <dir>",
    "model export directory (model.json + weights.bin; for a shipped model checkpoints/<name>/export; required)",
  )
  .option(
    "--dataset <name>",
    "dataset (mnist, cifar10); default: the one the export was trained on (model.json input.dataset)",
  )
  .option("--split <split>", "dataset split: test or train", "test")
  .option("--limit <n>", "first n images (default: the whole split)", (v) => Number(v))
  .option(
    "--batch <n>",
    "images per secure-inference call (dataset runs; --image files run one per call)",
    (v) => Number(v),
    100,
  )
  .option("--image <files...>", "classify image files (one prediction each) instead of a dataset")
  .addOption(
    new Option(
      "--net <setting>",
      "link shaping: lan = 0.2 ms / 625 MB/s, wan = 80 ms / 40 MB/s (one-way latency)",
    )
      .choices(["none", "lan", "wan"])
      .default("none"),
  )
  .addOption(new Option("--msb <protocol>", MSB_HELP).choices(["secure", "cbnn"]).default("secure"))
  .addOption(new Option("--cbnn-open <who>", CBNN_OPEN_HELP).choices(["helper", "all"]))
  .addOption(new Option("--truncation <mode>", TRUNCATION_HELP).choices(["fast", "exact"]))
  .option("--parties <file>", "parties config to use instead of throwaway local certificates")
  .option("--timeout <s>", "per-receive timeout of every party, seconds", (v) => Number(v))
  .option("--json <file>", "write the report as JSON (its folder is created if missing)")
  .option("--verbose", "print the parties' log lines");

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{
    export: string;
    dataset?: string;
    split: string;
    limit?: number;
    batch: number;
    image?: string[];
    net: NetName;
    msb: MsbChoice;
    cbnnOpen?: CbnnOpen;
    truncation?: Truncation;
    parties?: string;
    timeout?: number;
    json?: string;
    verbose?: boolean;
  }>();
  if (o.dataset !== undefined && !isDatasetName(o.dataset))
    throw new Error(`--dataset: unknown dataset "${o.dataset}"`);
  if (o.split !== "test" && o.split !== "train") throw new Error("--split must be test or train");
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) {
    throw new Error("--limit must be a positive integer");
  }
  if (!Number.isInteger(o.batch) || o.batch < 1)
    throw new Error("--batch must be a positive integer");
  if (o.image && program.getOptionValueSource("batch") === "cli")
    throw new Error("--batch applies to dataset runs: --image files run one per call");
  if (o.timeout !== undefined && !(o.timeout > 0)) throw new Error("--timeout must be > 0 seconds");
  netProfile(o.net);
  const jsonOut = o.json !== undefined ? prepareOutputFile(o.json, "--json") : undefined;
  const bar = progressPrinter(process.stderr);
  const report = await runLocalEval({
    exportDir: o.export,
    dataset: o.dataset,
    split: o.split,
    limit: o.limit,
    batch: o.batch,
    image: o.image,
    net: o.net,
    msb: o.msb,
    truncation: o.truncation,
    cbnnOpen: o.cbnnOpen,
    partiesConfig: o.parties,
    timeoutMs: o.timeout !== undefined ? o.timeout * 1000 : undefined,
    onProgress: bar,
    onLog: (p, line) => {
      if (o.verbose || /error|refused/i.test(line)) {
        process.stderr.write(`[${partyName(p)}] ${line}\n`);
      }
    },
  });
  process.stdout.write(`${formatReport(report)}\n`);
  if (jsonOut) {
    writeFileSync(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`wrote ${o.json}\n`);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`error: ${e.message}\n`);
  process.exit(1);
});
