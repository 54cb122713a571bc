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
export { smallConvNet, TRAIN_STEP_MODULE, trainStep } from "./train_step";
