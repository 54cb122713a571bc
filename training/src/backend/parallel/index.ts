export {
  DataParallel,
  type DataParallelOptions,
  type ParallelStepResult,
  shards,
  weightedSum,
} from "./data_parallel";
export type { FloatArray, LossSpec, ModelSpec } from "./protocol";
