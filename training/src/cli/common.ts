import { InvalidArgumentError } from "commander";

/** Commander parsers with clear errors. */
export function parseNumber(
  name: string,
  opts: { min?: number; max?: number; integer?: boolean } = {},
) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x))
      throw new InvalidArgumentError(`${name}: "${v}" is not a number`);
    if (opts.integer && !Number.isInteger(x))
      throw new InvalidArgumentError(`${name}: "${v}" is not an integer`);
    if (opts.min !== undefined && x < opts.min)
      throw new InvalidArgumentError(`${name}: ${x} is below ${opts.min}`);
    if (opts.max !== undefined && x > opts.max)
      throw new InvalidArgumentError(`${name}: ${x} is above ${opts.max}`);
    return x;
  };
}

/** An EMA decay: 0 (off) or a number in (0, 1). */
export function parseEmaDecay(name: string) {
  const num = parseNumber(name, { min: 0 });
  return (v: string): number => {
    const x = num(v);
    if (x >= 1) throw new InvalidArgumentError(`${name}: ${x} must be below 1 (0 = off)`);
    return x;
  };
}

export function parseChoice<T extends string>(name: string, choices: readonly T[]) {
  return (v: string): T => {
    if (!(choices as readonly string[]).includes(v)) {
      throw new InvalidArgumentError(`${name}: "${v}" is not one of ${choices.join(", ")}`);
    }
    return v as T;
  };
}

/** Runs a CLI's main; any error prints its message and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}

/**
 * An AbortSignal raised by the first Ctrl-C (the trainer then saves a checkpoint
 * and stops); a second Ctrl-C exits at once with code 130. One keypress can
 * arrive two or three times (the terminal signals the whole process group and
 * launchers in it, pnpm and tsx, relay it to their child too), so repeats within
 * a second count as the same keypress.
 */
export function abortOnCtrlC(): AbortSignal {
  const ctrl = new AbortController();
  let first = 0;
  process.on("SIGINT", () => {
    if (ctrl.signal.aborted) {
      if (performance.now() - first < 1000) return;
      process.stderr.write("\nsecond Ctrl-C: exiting without a checkpoint\n");
      process.exit(130);
    }
    process.stderr.write(
      "\nCtrl-C: saving a checkpoint after this step (Ctrl-C again to quit at once)\n",
    );
    first = performance.now();
    ctrl.abort();
  });
  return ctrl.signal;
}
