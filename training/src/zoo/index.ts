export {
  BN_EPSILON,
  BN_MOMENTUM,
  type BuildOptions,
  buildModel,
  countParams,
  scaleWidth,
} from "./build";
export {
  type Activation,
  type Block,
  type ConvBlock,
  type DenseBlock,
  type GlobalAvgPoolBlock,
  listModels,
  loadModelConfig,
  MODELS_DIR,
  type ModelConfig,
  type ResidualBlock,
  validateModelConfig,
} from "./config";
export { type FloatModelInfo, toFloatModel } from "./float-model";
