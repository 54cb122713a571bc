import * as tf from "@tensorflow/tfjs";
import { asWasm, type KernelArgs } from "./util";

/**
 * Identity, and Cast to the same dtype, without a copy: the output shares the input's
 * buffer (one more reference), as on the cpu backend. Tensors are immutable, so sharing is
 * safe; wasm's own kernels copy the whole tensor (~300 such calls per CifarNet2 step).
 * Strings and real casts go to wasm's kernels.
 */
export function makeIdentityConfig(
  kernelName: typeof tf.Identity | typeof tf.Cast,
  original: tf.KernelConfig,
): tf.KernelConfig {
  return {
    kernelName,
    backendName: "wasm",
    kernelFunc: (args: KernelArgs) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const dtype =
        kernelName === tf.Cast ? (args.attrs as unknown as tf.CastAttrs).dtype : x.dtype;
      if (x.dtype === "string" || dtype !== x.dtype) return original.kernelFunc(args);
      asWasm(args.backend).incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    },
  };
}
