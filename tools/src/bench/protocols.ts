/**
 * `pnpm bench protocols`: per-protocol time, rounds and bytes (memory
 * transport), the Z_2^32 ring GEMM/conv kernels vs naive loops, and the
 * shaping ping-pong check (real mutual-TLS WebSockets on loopback).
 */
import {
  benchGemm,
  benchProtocols,
  benchShaping,
  formatGemmBench,
  formatProtocolsBench,
  formatShapingBench,
  type GemmBenchResult,
  type ProtocolsBenchResult,
  type ShapingBenchRow,
} from "@cbnn/inference";
import { writeResults } from "./results";
import type { Suite, SuiteOptions } from "./types";

export interface ProtocolsResults {
  quick: boolean;
  durationS: number;
  /** Per-protocol rows and MnistNet1's costs per MSB variant (`benchProtocols`). */
  protocols: ProtocolsBenchResult;
  gemm: GemmBenchResult;
  shaping: ShapingBenchRow[];
}

export async function runProtocolsBench(opts: SuiteOptions): Promise<ProtocolsResults> {
  const t0 = performance.now();
  const protocols = await benchProtocols({ quick: opts.quick });
  console.log(formatProtocolsBench(protocols));
  const gemm = await benchGemm({ quick: opts.quick });
  console.log(formatGemmBench(gemm));
  const shaping = await benchShaping({
    sizes: opts.quick ? [32, 100_000] : [32, 1_000_000],
    iterations: opts.quick ? 5 : 20,
  });
  console.log(formatShapingBench(shaping));
  const durationS = (performance.now() - t0) / 1000;
  const results: ProtocolsResults = { quick: opts.quick, durationS, protocols, gemm, shaping };
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
