import { Command } from "commander";
import { writeCards } from "../model-cards";

const program = new Command()
  .name("pnpm cards")
  .description(
    "Measure the shipped models in checkpoints/ (each directory with run.json and latest.json) on the full test set, float and, where it has an export, fixed point, and regenerate their card.json files and checkpoints/README.md.",
  )
  .argument("[names...]", "models to re-measure (default: every shipped model)")
  .option("--render-only", "only regenerate checkpoints/README.md from the existing cards", false)
  .action(async (names: string[], o: { renderOnly: boolean }) => {
    const todo = o.renderOnly ? [] : names.length > 0 ? names : null;
    await writeCards(todo, (s) => process.stdout.write(`${s}\n`));
  });

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`cards failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
