export interface SuiteOptions {
  /** Fewer repeats and smaller inputs, for a smoke run. */
  quick: boolean;
  /**
   * Models suite: CIFAR-10 accuracy and throughput runs use the first N test
   * images (default 1000; 10000 = the full test set). Ignored by the other suites.
   */
  cifarLimit?: number;
}

/** One benchmark suite: prints its results and may write bench/results/<name>.json (bench/results-quick/<name>.json with --quick). */
export interface Suite {
  describe: string;
  run(opts: SuiteOptions): Promise<void>;
}
