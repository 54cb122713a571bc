import { Command } from "commander";
import { DEFAULT_CIFAR_LIMIT, suites, writeReport } from "./bench/index";

function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < 1) {
      throw new Error(`${flag} must be a positive integer, got "${v}"`);
    }
    return n;
  };
}

const program = new Command()
  .name("pnpm bench")
  .description(
    "Run benchmark suites: each writes bench/results/<suite>.json, then docs/RESULTS.md is re-rendered from all results present. Both are tracked in git: a full run replaces the committed numbers (git checkout bench/results docs/RESULTS.md restores them). --quick (smoke) runs write bench/results-quick/ and bench/results-quick/RESULTS.md instead, ignored by git, and leave the committed numbers alone",
  )
  .argument(
    "[suites...]",
    `suites to run (${Object.keys(suites).join(", ")}), "all", or "report" (re-render docs/RESULTS.md only; with --quick bench/results-quick/RESULTS.md); default: all`,
  )
  .option(
    "--quick",
    "fewer repeats, smaller inputs (smoke run, about 5 min for all on 2 cores); results go to bench/results-quick/, not the committed bench/results/",
    false,
  )
  .option(
    "--cifar-limit <n>",
    `models suite: CIFAR-10 accuracy and throughput runs on the first n test images (10000 = the full test set; --quick uses at most 20)`,
    positiveInt("--cifar-limit"),
    DEFAULT_CIFAR_LIMIT,
  )
  .option("--list", "list the suites and exit", false)
  .action(async (names: string[], opts: { quick: boolean; list: boolean; cifarLimit: number }) => {
    if (opts.list) {
      for (const [n, s] of Object.entries(suites)) console.log(`${n}\t${s.describe}`);
      return;
    }
    const reportOnly = names.length === 1 && names[0] === "report";
    if (!reportOnly) {
      if (names.includes("report")) throw new Error(`"report" runs alone (it runs no suite)`);
      const chosen =
        names.length === 0 || names.includes("all") ? Object.keys(suites) : [...new Set(names)];
      const unknown = chosen.filter((n) => !(n in suites));
      if (unknown.length) {
        throw new Error(
          `unknown suite(s): ${unknown.join(", ")} (have: ${Object.keys(suites).join(", ")}, all, report)`,
        );
      }
      const t0 = performance.now();
      for (const n of chosen) {
        console.log(`== ${n}: ${suites[n]!.describe}`);
        const t = performance.now();
        await suites[n]!.run({ quick: opts.quick, cifarLimit: opts.cifarLimit });
        console.log(`== ${n} done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
      }
      console.log(
        `== ${chosen.join(", ")}${opts.quick ? " (--quick)" : ""}: ${((performance.now() - t0) / 1000).toFixed(0)} s in all`,
      );
    }
    console.log(`wrote ${await writeReport({ quick: opts.quick })}`);
  });

program.parseAsync().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
