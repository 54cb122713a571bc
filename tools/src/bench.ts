import { Command } from "commander";
import { suites } from "./bench/index";

const program = new Command()
  .name("bench")
  .description("Run benchmark suites; results go to stdout and bench/results/<suite>.json")
  .argument("[suites...]", `suites to run (${Object.keys(suites).join(", ")}); default: all`)
  .option("--quick", "fewer repeats, smaller inputs (smoke run)", false)
  .option("--list", "list the suites and exit", false)
  .action(async (names: string[], opts: { quick: boolean; list: boolean }) => {
    if (opts.list) {
      for (const [n, s] of Object.entries(suites)) console.log(`${n}\t${s.describe}`);
      return;
    }
    const chosen = names.length ? names : Object.keys(suites);
    const unknown = chosen.filter((n) => !(n in suites));
    if (unknown.length) {
      throw new Error(
        `unknown suite(s): ${unknown.join(", ")} (have: ${Object.keys(suites).join(", ")})`,
      );
    }
    for (const n of chosen) {
      console.log(`== ${n}: ${suites[n]!.describe}`);
      await suites[n]!.run({ quick: opts.quick });
    }
  });

program.parseAsync().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
