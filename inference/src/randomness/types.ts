import type { PartyId } from "../transport/types";

/**
 * Correlated randomness for one party. Every method is non-interactive once
 * the provider is set up; calls must be made in the same order by the parties
 * that share a source (protocol code draws everything it needs up front, in a
 * fixed order, before its first message).
 *
 * Implementations: {@link PrfRandomness} (pairwise AES-CTR seeds, paper 3.2).
 * A dealer-made source (e.g. FSS keys made offline by P2) fits beside it: its
 * offline messages are charged to the "setup" phase of the transport, never to
 * the online phase.
 */
export interface RandomnessProvider {
  readonly party: PartyId;
  /**
   * 2-of-3 random ring elements: returns (r_i, r_{i+1}) of a random r = r0+r1+r2,
   * where r_i is also known to P_{i-1} and r_{i+1} to P_{i+1}.
   * Used bit-packed (as words) for boolean randoms.
   */
  random2of3(n: number): [Uint32Array, Uint32Array];
  /** This party's share of an additive 3-of-3 sharing of zero mod 2^32. */
  zeroShare(n: number): Uint32Array;
  /** This party's share of an XOR 3-of-3 sharing of zero (n words). */
  zeroShareBool(words: number): Uint32Array;
  /** n words known to this party and `peer` only (both must call it). */
  common(peer: PartyId, n: number): Uint32Array;
  /** n words known to this party only. */
  local(n: number): Uint32Array;
}
