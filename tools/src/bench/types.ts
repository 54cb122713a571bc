export interface SuiteOptions {
  /** Fewer repeats and smaller inputs, for a smoke run. */
  quick: boolean;
}

/** One benchmark suite: prints its results and may write bench/results/<name>.json. */
export interface Suite {
  describe: string;
  run(opts: SuiteOptions): Promise<void>;
}
