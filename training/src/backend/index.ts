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
export { registerWasmKernels, wasmKernels } from "./kernels";
