export { AUGMENT_PAD, type AugmentOptions, augmentBatch, makeRng } from "./augment";
export { type FetchOptions, fetchDataset } from "./fetch";
export { loadImageForModel } from "./image";
export { datasetInfo } from "./info";
export { datasetStats, loadDataset } from "./load";
export { DEFAULT_CACHE_DIR, resolveCacheDir } from "./paths";
export { NPM_SOURCES } from "./sources";
export type { Dataset, DatasetName, DatasetStats, Split } from "./types";
export { DATASET_NAMES, DATASETS, isDatasetName } from "./types";
