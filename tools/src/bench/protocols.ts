/**
 * `pnpm bench protocols`: per-protocol time, rounds and bytes (memory
 * transport), the Z_2^32 ring GEMM/conv kernels vs naive loops, and the
 * shaping ping-pong check (real mutual-TLS WebSockets on loopback).
 */
import { benchShaping, formatShapingBench, type ShapingBenchRow } from "@cbnn/inference";
// Not exported from @cbnn/inference's index (bench-only modules of that package).
import {
  benchGemm,
  formatGemmBench,
  type GemmBenchResult,
} from "../../../inference/src/bench/gemm";
import { benchProtocols } from "../../../inference/src/bench/protocols";
import { writeResults } from "./results";
import type { Suite, SuiteOptions } from "./types";

export interface ProtocolsResults {
  quick: boolean;
  durationS: number;
  /** benchProtocols prints a table and returns nothing: its lines, as printed. */
  protocolLines: string[];
  gemm: GemmBenchResult;
  shaping: ShapingBenchRow[];
}

/** Runs `f`, echoing and collecting what it prints with console.log. */
async function captureLog(f: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...args: unknown[]) => {
    const line = args.map(String).join(" ");
    lines.push(...line.split("\n"));
    orig(line);
  };
  try {
    await f();
  } finally {
    console.log = orig;
  }
  return lines;
}

export async function runProtocolsBench(opts: SuiteOptions): Promise<ProtocolsResults> {
  const t0 = performance.now();
  const protocolLines = await captureLog(() => benchProtocols({ quick: opts.quick }));
  const gemm = await benchGemm({ quick: opts.quick });
  console.log(formatGemmBench(gemm));
  const shaping = await benchShaping({
    sizes: opts.quick ? [32, 100_000] : [32, 1_000_000],
    iterations: opts.quick ? 5 : 20,
  });
  console.log(formatShapingBench(shaping));
  const durationS = (performance.now() - t0) / 1000;
  const results: ProtocolsResults = { quick: opts.quick, durationS, protocolLines, gemm, shaping };
  console.log(`wrote ${writeResults("protocols", results)} (${durationS.toFixed(0)} s)`);
  return results;
}

export const protocolsSuite: Suite = {
  describe:
    "per-protocol time/rounds/bytes (10^5 values), ring GEMM vs naive, shaping ping-pong vs its target",
  run: async (opts) => {
    await runProtocolsBench(opts);
  },
};
