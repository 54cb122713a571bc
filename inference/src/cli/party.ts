import { writeFileSync } from "node:fs";
import { isDatasetName } from "@cbnn/datasets";
import { prepareOutputFile } from "@cbnn/shared";
import { Command, Option } from "commander";
import type { MsbChoice } from "../layers/runner";
import { loadPartiesConfig, ROLES, roleToParty } from "../runtime/config";
import type { PartyIpcMessage } from "../runtime/local";
import { type CbnnOpen, runParty, type Truncation } from "../runtime/party";
import { formatReport, progressPrinter } from "../runtime/report";
import { netProfile } from "../transport/shaping";
import { CBNN_OPEN_HELP, MSB_HELP, TRUNCATION_HELP } from "./help";

const program = new Command()
  .name("pnpm party")
  .description("Run one party of a three-party secure evaluation (mutual-TLS WebSockets).")
  .addOption(new Option("--role <role>", "which party").choices([...ROLES]).makeOptionMandatory())
  .requiredOption("--config <file>", "parties config (configs/parties/*.json; required)")
  .option("--export <dir>", "model owner: the export directory (model.json + weights.bin)")
  .option("--dataset <name>", "data owner: dataset to classify (mnist, cifar10)")
  .option("--split <split>", "data owner: dataset split, test or train", "test")
  .option("--limit <n>", "data owner: first n images only", (v) => Number(v))
  .option("--batch <n>", "data owner: images per secure-inference call", (v) => Number(v), 100)
  .option(
    "--image <files...>",
    "data owner: classify image files (PNG, JPEG, ...), one prediction each",
  )
  .addOption(
    new Option("--net <setting>", "shape this party's outgoing links (one-way latency + bandwidth)")
      .choices(["none", "lan", "wan"])
      .default("none"),
  )
  .addOption(
    new Option(
      "--msb <protocol>",
      `${MSB_HELP} The data owner decides (default secure); the others check theirs when given.`,
    ).choices(["secure", "cbnn"]),
  )
  .addOption(
    new Option("--cbnn-open <who>", `${CBNN_OPEN_HELP} Decided by the data owner.`).choices([
      "helper",
      "all",
    ]),
  )
  .addOption(
    new Option("--truncation <mode>", `${TRUNCATION_HELP} Decided by the data owner.`).choices([
      "fast",
      "exact",
    ]),
  )
  .option("--timeout <s>", "fail the run when a peer is silent this long (overrides config)", (v) =>
    Number(v),
  )
  .option(
    "--json <file>",
    "data owner: write the report as JSON (its folder is created if missing)",
  )
  .option("--ipc", "report progress and results to a parent process (used by secure-eval)")
  .option("--quiet", "no log lines");

/** Options that only one role reads; the others would silently ignore them. */
const ROLE_OPTIONS: Readonly<Record<string, { role: string; flag: string }>> = {
  export: { role: "model-owner", flag: "--export" },
  dataset: { role: "data-owner", flag: "--dataset" },
  split: { role: "data-owner", flag: "--split" },
  limit: { role: "data-owner", flag: "--limit" },
  batch: { role: "data-owner", flag: "--batch" },
  image: { role: "data-owner", flag: "--image" },
  json: { role: "data-owner", flag: "--json" },
};
/** "the model owner reads --export; the data owner reads --dataset, ... and --json" */
const ROLE_OPTIONS_HELP = ["model-owner", "data-owner"]
  .map((role) => {
    const flags = Object.values(ROLE_OPTIONS)
      .filter((o) => o.role === role)
      .map((o) => o.flag);
    const list =
      flags.length > 1 ? `${flags.slice(0, -1).join(", ")} and ${flags.at(-1)}` : flags[0];
    return `the ${role.replace("-", " ")} reads ${list}`;
  })
  .join("; ");

/** The flags given on the command line that `role` does not read. */
function foreignRoleOptions(role: string, given: (key: string) => boolean): string[] {
  return Object.entries(ROLE_OPTIONS)
    .filter(([key, o]) => o.role !== role && given(key))
    .map(([, o]) => o.flag);
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{
    role: string;
    config: string;
    export?: string;
    dataset?: string;
    split: string;
    limit?: number;
    batch: number;
    image?: string[];
    net: string;
    msb?: MsbChoice;
    cbnnOpen?: CbnnOpen;
    truncation?: Truncation;
    timeout?: number;
    json?: string;
    ipc?: boolean;
    quiet?: boolean;
  }>();
  const party = roleToParty(o.role);
  const foreign = foreignRoleOptions(o.role, (key) => program.getOptionValueSource(key) === "cli");
  if (foreign.length > 0) {
    throw new Error(
      `${foreign.join(", ")}: ${foreign.length === 1 ? "applies" : "apply"} to another party, not --role ${o.role} (${ROLE_OPTIONS_HELP})`,
    );
  }
  const config = loadPartiesConfig(o.config);
  if (o.dataset !== undefined && !isDatasetName(o.dataset)) {
    throw new Error(`--dataset: unknown dataset "${o.dataset}" (expected mnist or cifar10)`);
  }
  if (o.split !== "test" && o.split !== "train") throw new Error(`--split must be test or train`);
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) {
    throw new Error(`--limit must be a positive integer`);
  }
  if (o.timeout !== undefined && !(o.timeout > 0)) throw new Error(`--timeout must be > 0 seconds`);
  // only the data owner writes the report
  const jsonOut =
    o.json !== undefined && party === 0 ? prepareOutputFile(o.json, "--json") : undefined;
  // IPC sends are asynchronous: a large report (10^4 images) is still being
  // written when main() returns, so the final messages are awaited before exit.
  const send = (m: PartyIpcMessage): Promise<void> =>
    new Promise((res) => {
      if (!o.ipc || !process.send) return res();
      process.send(m, undefined, {}, () => res());
    });
  const bar = party === 0 && !o.ipc ? progressPrinter(process.stderr) : null;
  try {
    const result = await runParty({
      party,
      config,
      net: netProfile(o.net),
      msb: o.msb,
      truncation: o.truncation,
      cbnnOpen: o.cbnnOpen,
      exportDir: o.export,
      input:
        party === 0
          ? {
              dataset:
                o.dataset && isDatasetName(o.dataset)
                  ? { name: o.dataset, split: o.split as "test" | "train", limit: o.limit }
                  : undefined,
              image: o.image,
              batch: o.batch,
            }
          : undefined,
      timeoutMs: o.timeout !== undefined ? o.timeout * 1000 : undefined,
      log: o.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
      onProgress: (done, total) => {
        bar?.(done, total);
        void send({ type: "progress", done, total });
      },
    });
    if (result.kind === "report") {
      if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(result.report, null, 2)}\n`);
      if (o.ipc) await send({ type: "report", report: result.report });
      else process.stdout.write(`${formatReport(result.report)}\n`);
    }
  } catch (e) {
    await send({ type: "error", message: (e as Error).message });
    throw e;
  }
}

main().then(
  () => {
    // Do not wait for stray handles (a refused stranger's socket, timers).
    if (process.send) process.disconnect();
    process.exit(0);
  },
  (e: Error) => {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(1);
  },
);
