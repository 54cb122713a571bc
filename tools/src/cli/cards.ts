import { Command } from "commander";
import { writeCards } from "../model-cards";

const program = new Command()
  .name("pnpm cards")
  .description(
    "Measure the shipped models in checkpoints/ on the full test set (float and fixed point) and regenerate their card.json files and checkpoints/README.md.",
  )
  .argument("[names...]", "models to re-measure (default: every shipped model)")
  .action(async (names: string[]) => {
    await writeCards(names.length > 0 ? names : null, (s) => process.stdout.write(`${s}\n`));
  });

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`cards failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
