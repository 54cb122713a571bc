import * as tf from "@tensorflow/tfjs";
import { ConstantPad2D } from "./pad";
import { SignSTE } from "./sign";

export {
  type BatchNormTrainingResult,
  batchNormTraining,
  useFusedBatchNormTraining,
} from "./batch_norm";
export { ConstantPad2D, type ConstantPad2DArgs, type Pad2D, samePadding } from "./pad";
export {
  approxSignGrad,
  SIGN_GRADS,
  type SignGrad,
  SignSTE,
  signApprox,
  signForward,
  signSTE,
} from "./sign";

let registered = false;

/** Registers the custom layers with tfjs serialization (idempotent; done on import). */
export function registerCustomLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(SignSTE);
  tf.serialization.registerClass(ConstantPad2D);
  registered = true;
}

registerCustomLayers();
