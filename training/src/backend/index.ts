export {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendInfo,
  type BackendName,
  type InitBackendOptions,
  initBackend,
  type Tf,
  wasmBinaryDir,
} from "./init";
export {
  originalWasmKernel,
  registerWasmKernels,
  unregisterWasmKernels,
  WASM_KERNEL_REASONS,
  wasmKernelConfigs,
} from "./kernels";
export * from "./parallel";
export { formatProfile, type KernelProfile, type KernelTime, profileKernels } from "./profile";
export {
  buildStepModel,
  type ParallelTiming,
  profileTrainSteps,
  STEP_BENCH_MODULE,
  type StepModel,
  type StepTiming,
  type StepTimingOptions,
  timeDataParallel,
  timeTrainSteps,
} from "./step_bench";
export { smallConvNet, TRAIN_STEP_MODULE, trainStep } from "./train_step";
