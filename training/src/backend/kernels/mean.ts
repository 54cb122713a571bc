import * as tf from "@tensorflow/tfjs";
import { makeLeadingReduceConfig } from "./reduce_leading";

/** Mean over leading axes (batch-norm moments) without wasm's transpose; else wasm's Mean. */
export function makeMeanConfig(original: tf.KernelConfig): tf.KernelConfig {
  return makeLeadingReduceConfig(tf.Mean, original, true);
}
