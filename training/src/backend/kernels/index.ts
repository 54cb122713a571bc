import type * as tfNs from "@tensorflow/tfjs";
import { makeMatMulConfig } from "./batch_mat_mul";
import { batchNormConfig } from "./batch_norm";
import { makeBinaryConfig } from "./binary_broadcast";
import { conv2dBackpropFilterConfig } from "./conv2d_backprop_filter";
import { conv2dBackpropInputConfig } from "./conv2d_backprop_input";
import { depthwiseBackpropFilterConfig } from "./depthwise_backprop_filter";
import { depthwiseBackpropInputConfig } from "./depthwise_backprop_input";
import { makeIdentityConfig } from "./identity";
import { maxPoolGradConfig } from "./max_pool_grad";
import { maxPoolWithArgmaxConfig } from "./max_pool_with_argmax";
import { makeMeanConfig } from "./mean";
import { makeSliceConfig } from "./slice";
import { makeSumConfig } from "./sum";
import { makeTileConfig } from "./tile";

/** Why each kernel is registered on wasm (docs/backend.md has the measurements). */
export const WASM_KERNEL_REASONS: Readonly<Record<string, string>> = {
  Conv2DBackpropFilter: "missing in tfjs-backend-wasm 4.22",
  DepthwiseConv2dNativeBackpropInput: "missing in tfjs-backend-wasm 4.22",
  DepthwiseConv2dNativeBackpropFilter: "missing in tfjs-backend-wasm 4.22",
  Conv2DBackpropInput: "slow: replaced by a forward conv on the zero-inserted gradient",
  MaxPoolGrad: "wrong: max starts at FLT_MIN, windows with max <= 0 misroute the gradient",
  MaxPoolWithArgmax: "wrong: same FLT_MIN start (max 1.2e-38, argmax 0 for max <= 0)",
  BatchMatMul: "transposeA/B path ~10x slower; packed-weights cache ignores shape",
  _FusedMatMul: "same as BatchMatMul",
  Tile: "slow (sits in the batch-norm gradient): replaced by block copies",
  Sum: "slow over leading axes (transposes first; batch-norm gradient): column sums by GEMM",
  Mean: "slow over leading axes (transposes first; batch-norm moments): column sums",
  FusedBatchNorm: "slow (~8x one float op over the same tensor): Sub, Mul, Add",
  Identity: "copies the tensor: shares the buffer instead (as the cpu backend does)",
  Cast: "same as Identity when the dtype does not change",
  Slice: "5-10x slower than a memcpy on crops (gradient of the -1 padding): block copies",
  Multiply: "a [1,1,1,C] operand runs ~2.5x slower than the same values as [C]: reshaped",
  Add: "same as Multiply",
  Sub: "same as Multiply",
  RealDiv: "same as Multiply",
};

/**
 * The kernel configs for wasm. Overrides of existing kernels wrap the original (taken
 * from `getKernel` before it is replaced), so this is built when registering.
 */
export function wasmKernelConfigs(tf: typeof tfNs): tfNs.KernelConfig[] {
  const orig = (name: string): tfNs.KernelConfig => {
    const k = tf.getKernel(name, "wasm");
    if (k == null) throw new Error(`wasm kernel ${name} missing: cannot wrap it`);
    return k;
  };
  return [
    conv2dBackpropFilterConfig,
    conv2dBackpropInputConfig,
    depthwiseBackpropInputConfig,
    depthwiseBackpropFilterConfig,
    maxPoolGradConfig,
    maxPoolWithArgmaxConfig,
    makeMatMulConfig(tf.BatchMatMul, orig(tf.BatchMatMul)),
    makeMatMulConfig(tf._FusedMatMul, orig(tf._FusedMatMul)),
    makeTileConfig(orig(tf.Tile)),
    makeSumConfig(orig(tf.Sum)),
    makeMeanConfig(orig(tf.Mean)),
    batchNormConfig,
    makeIdentityConfig(tf.Identity, orig(tf.Identity)),
    makeIdentityConfig(tf.Cast, orig(tf.Cast)),
    makeSliceConfig(orig(tf.Slice)),
    ...[tf.Multiply, tf.Add, tf.Sub, tf.RealDiv].map((k) => makeBinaryConfig(k, orig(k))),
  ];
}

let registered: tfNs.KernelConfig[] | null = null;
const originals = new Map<string, tfNs.KernelConfig>();

/** Register the wasm kernels once, replacing wasm's own kernel of the same name. */
export function registerWasmKernels(tf: typeof tfNs): string[] {
  if (registered == null) {
    const configs = wasmKernelConfigs(tf);
    for (const k of configs) {
      const old = tf.getKernel(k.kernelName, "wasm");
      if (old != null) {
        originals.set(k.kernelName, old);
        tf.unregisterKernel(k.kernelName, "wasm");
      }
      tf.registerKernel(k);
    }
    registered = configs;
  }
  return registered.map((k) => k.kernelName);
}

/** wasm's own kernel that `registerWasmKernels` replaced (for tests and benchmarks). */
export function originalWasmKernel(name: string): tfNs.KernelConfig | undefined {
  return originals.get(name);
}

/** Put wasm's own kernels back (benchmarks compare both); registerWasmKernels redoes it. */
export function unregisterWasmKernels(tf: typeof tfNs): void {
  if (registered == null) return;
  for (const k of registered) {
    tf.unregisterKernel(k.kernelName, "wasm");
    const old = originals.get(k.kernelName);
    if (old != null) tf.registerKernel(old);
  }
  originals.clear();
  registered = null;
}
