import * as tf from "@tensorflow/tfjs";
import { makeLeadingReduceConfig } from "./reduce_leading";

/** Sum over leading axes (batch-norm gradient) without wasm's transpose; else wasm's Sum. */
export function makeSumConfig(original: tf.KernelConfig): tf.KernelConfig {
  return makeLeadingReduceConfig(tf.Sum, original, false);
}
