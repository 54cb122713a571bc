import { backendSuite } from "./backend";
import type { Suite } from "./types";

export { RESULTS_DIR, writeResults } from "./results";
export { fmt, stats, type TimingStats, timeIt } from "./stats";
export type { Suite, SuiteOptions } from "./types";

/** Benchmark suites by name (`pnpm bench <name>...`). Add new suites here. */
export const suites: Record<string, Suite> = {
  backend: backendSuite,
};
