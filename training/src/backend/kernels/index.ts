import type * as tfNs from "@tensorflow/tfjs";
import type { KernelConfig } from "@tensorflow/tfjs";

/**
 * Kernels registered on the wasm backend: gradient kernels it lacks and replacements for
 * kernels it gets wrong or runs slowly (docs/backend.md lists why each one is here).
 */
export const wasmKernels: KernelConfig[] = [];

let registered = false;

/** Register `wasmKernels` once, replacing any kernel wasm already has under the same name. */
export function registerWasmKernels(tf: typeof tfNs): void {
  if (registered) return;
  for (const k of wasmKernels) {
    if (tf.getKernel(k.kernelName, "wasm") != null) tf.unregisterKernel(k.kernelName, "wasm");
    tf.registerKernel(k);
  }
  registered = true;
}
