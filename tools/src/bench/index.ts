import { backendSuite } from "./backend";
import { modelsSuite } from "./models";
import { protocolsSuite } from "./protocols";
import { trainingSuite } from "./training";
import type { Suite } from "./types";

export { describeRun, type GitInfo, gitInfo, type MachineInfo, machineInfo } from "./env";
export { type Figure, renderFigures } from "./figures";
export { DEFAULT_CIFAR_LIMIT, type ModelsResults, runModelsBench } from "./models";
export { type ProtocolsResults, runProtocolsBench } from "./protocols";
export {
  QUICK_RESULTS_MD,
  RESULTS_MD,
  type ReportInput,
  renderReport,
  writeReport,
} from "./report";
export {
  QUICK_RESULTS_DIR,
  RESULTS_DIR,
  type ResultsFile,
  readAllResults,
  resultsDirFor,
  writeResults,
} from "./results";
export { fmt, stats, type TimingStats, timeIt } from "./stats";
export { runTrainingBench, type TrainingResults } from "./training";
export type { Suite, SuiteOptions } from "./types";

/** Benchmark suites by name (`pnpm bench <name>...`); `all` runs them in this order. */
export const suites: Record<string, Suite> = {
  backend: backendSuite,
  protocols: protocolsSuite,
  training: trainingSuite,
  models: modelsSuite,
};
