/** The datasets this package knows. */
export type DatasetName = "mnist" | "cifar10";
export type Split = "train" | "test";

/** One split of a dataset held in memory. */
export interface Dataset {
  name: DatasetName;
  split: Split;
  count: number;
  /** [height, width, channels] of one image. */
  shape: [number, number, number];
  /** NHWC uint8, count * h * w * c bytes. */
  images: Uint8Array;
  /** One class index per image. */
  labels: Uint8Array;
  /** Class names, indexed by label. */
  classes: string[];
}

export interface DatasetStats {
  /** Per-channel mean over all training pixels, 0-255 scale. */
  mean: number[];
  /** Per-channel population standard deviation over all training pixels, 0-255 scale. */
  std: number[];
}

export const DATASET_NAMES: readonly DatasetName[] = ["mnist", "cifar10"];

export interface DatasetSpec {
  name: DatasetName;
  shape: [number, number, number];
  counts: Record<Split, number>;
  classes: string[];
}

export const DATASETS: Record<DatasetName, DatasetSpec> = {
  mnist: {
    name: "mnist",
    shape: [28, 28, 1],
    counts: { train: 60000, test: 10000 },
    classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  },
  cifar10: {
    name: "cifar10",
    shape: [32, 32, 3],
    counts: { train: 50000, test: 10000 },
    classes: [
      "airplane",
      "automobile",
      "bird",
      "cat",
      "deer",
      "dog",
      "frog",
      "horse",
      "ship",
      "truck",
    ],
  },
};

export function isDatasetName(s: string): s is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(s);
}

export function assertDatasetName(s: string): DatasetName {
  if (!isDatasetName(s)) {
    throw new Error(`unknown dataset "${s}" (expected one of: ${DATASET_NAMES.join(", ")})`);
  }
  return s;
}
