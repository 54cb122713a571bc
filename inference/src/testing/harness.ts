import type { ModelExport } from "@cbnn/shared";
import { PartyContext } from "../context";
import {
  runSecureInference,
  type SecureInferenceOptions,
  type SecureInferenceResult,
} from "../layers/runner";
import { PrfRandomness } from "../randomness/prf";
import { randomKey } from "../ring/prg";
import type { AShare } from "../sharing/arith";
import type { BShare } from "../sharing/bool";
import {
  createMemoryTransports,
  type MemoryTransport,
  type MemoryTransportOptions,
} from "../transport/memory";
import { type PartyId, type PhaseStats, statsDelta } from "../transport/types";

/** Three party contexts over in-memory transports with fresh pairwise seeds, in the online phase. */
export function makeParties(transportOpts: MemoryTransportOptions = {}): {
  ctxs: [PartyContext, PartyContext, PartyContext];
  transports: MemoryTransport[];
} {
  const transports = createMemoryTransports(transportOpts);
  const keys = [randomKey(), randomKey(), randomKey()]; // k_i shared by P_i and P_{i+1}
  const ctxs = transports.map((t, i) => {
    t.setPhase("online");
    return new PartyContext(
      i as PartyId,
      t,
      new PrfRandomness(i as PartyId, keys[(i + 2) % 3], keys[i]),
    );
  }) as [PartyContext, PartyContext, PartyContext];
  return { ctxs, transports };
}

export interface CostedRun<T> {
  results: [T, T, T];
  /** Online-phase cost per party of this call only. */
  cost: [PhaseStats, PhaseStats, PhaseStats];
  /** Rounds of the call: the largest clock after it minus the largest clock before it. */
  rounds: number;
}

/**
 * Aligns the parties' round clocks (everyone sends an empty message to everyone
 * and waits), so that the next call's rounds are measured from a common start.
 */
export async function barrier(ctxs: readonly PartyContext[]): Promise<void> {
  await Promise.all(
    ctxs.map(async (c) => {
      c.transport.send(c.next, new Uint8Array(0));
      c.transport.send(c.prev, new Uint8Array(0));
      await Promise.all([c.transport.receive(c.next), c.transport.receive(c.prev)]);
    }),
  );
}

/** Runs `fn` at the three parties concurrently and measures the transport cost. */
export async function runCosted<T>(
  ctxs: readonly PartyContext[],
  fn: (ctx: PartyContext) => Promise<T>,
): Promise<CostedRun<T>> {
  await barrier(ctxs);
  const before = ctxs.map((c) => c.transport.stats());
  const results = (await Promise.all(ctxs.map((c) => fn(c)))) as [T, T, T];
  const deltas = ctxs.map((c, i) => statsDelta(before[i], c.transport.stats()));
  return {
    results,
    cost: deltas.map((d) => d.online) as [PhaseStats, PhaseStats, PhaseStats],
    rounds:
      Math.max(...ctxs.map((c) => c.transport.stats().clock)) -
      Math.max(...before.map((b) => b.clock)),
  };
}

/** Opens replicated arithmetic shares in the clear (test-only: reads all three parties). */
export function openA(shares: readonly AShare[]): Uint32Array {
  const [a, b, c] = shares;
  const out = new Uint32Array(a.n);
  for (let i = 0; i < a.n; i++) {
    // consistency: P_i's s1 must equal P_{i+1}'s s0
    if (a.s1[i] !== b.s0[i] || b.s1[i] !== c.s0[i] || c.s1[i] !== a.s0[i]) {
      throw new Error(`openA: inconsistent replicated shares at ${i}`);
    }
    out[i] = a.s0[i] + b.s0[i] + c.s0[i];
  }
  return out;
}

/** Opens replicated boolean shares (test-only); returns packed words. */
export function openB(shares: readonly BShare[]): Uint32Array {
  const [a, b, c] = shares;
  const out = new Uint32Array(a.s0.length);
  for (let i = 0; i < out.length; i++) {
    if (a.s1[i] !== b.s0[i] || b.s1[i] !== c.s0[i] || c.s1[i] !== a.s0[i]) {
      throw new Error(`openB: inconsistent replicated shares at word ${i}`);
    }
    out[i] = a.s0[i] ^ b.s0[i] ^ c.s0[i];
  }
  return out;
}

/** Edge values of the ring, as u32. */
export const EDGE_VALUES = [
  0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 2, 0xfffffffe, 0x80000001, 0x7ffffffe,
];

/** Random u32 values mixed with the edge values. */
export function randomWithEdges(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = (Math.random() * 2 ** 32) >>> 0;
  for (let i = 0; i < Math.min(n, EDGE_VALUES.length); i++) out[i] = EDGE_VALUES[i];
  return out;
}

/** Runs a secure inference of `model` with the three parties in this process. */
export async function runSecureLocal(
  model: ModelExport,
  weights: Int32Array,
  images: Uint8Array,
  count: number,
  opts: SecureInferenceOptions = {},
  transportOpts: MemoryTransportOptions = {},
): Promise<SecureInferenceResult[]> {
  const { ctxs } = makeParties(transportOpts);
  return Promise.all(
    ctxs.map((c) =>
      runSecureInference(
        c,
        model,
        {
          count,
          weights: c.id === 1 ? weights : undefined,
          images: c.id === 0 ? images : undefined,
        },
        opts,
      ),
    ),
  );
}
