import { AesCtrPrg, randomKey } from "../ring/prg";
import { type PartyId, partyAt, type Transport } from "../transport/types";
import type { RandomnessProvider } from "./types";

/**
 * PRF-seeded correlated randomness (paper 3.2). Key k_i is shared by P_i and
 * P_{i+1}; P_i holds k_{i-1} (with prev) and k_i (with next) plus a private key.
 * - zero share: a_i = F(k_i) - F(k_{i-1}) (sum over i telescopes to 0);
 * - 2-of-3 random: (r_i, r_{i+1}) = (F(k_{i-1}), F(k_i));
 * - common(peer): F of the key shared with that peer.
 * No messages after setup.
 */
export class PrfRandomness implements RandomnessProvider {
  private readonly withPrev: AesCtrPrg;
  private readonly withNext: AesCtrPrg;
  private readonly own: AesCtrPrg;
  private readonly next: PartyId;
  private readonly prev: PartyId;

  constructor(
    readonly party: PartyId,
    keyWithPrev: Uint8Array,
    keyWithNext: Uint8Array,
    ownKey: Uint8Array = randomKey(),
  ) {
    this.withPrev = new AesCtrPrg(keyWithPrev);
    this.withNext = new AesCtrPrg(keyWithNext);
    this.own = new AesCtrPrg(ownKey);
    this.next = partyAt(party, 1);
    this.prev = partyAt(party, 2);
  }

  random2of3(n: number): [Uint32Array, Uint32Array] {
    return [this.withPrev.words(n), this.withNext.words(n)];
  }

  zeroShare(n: number): Uint32Array {
    const a = this.withNext.words(n);
    const b = this.withPrev.words(n);
    for (let i = 0; i < n; i++) a[i] -= b[i];
    return a;
  }

  zeroShareBool(words: number): Uint32Array {
    const a = this.withNext.words(words);
    const b = this.withPrev.words(words);
    for (let i = 0; i < words; i++) a[i] ^= b[i];
    return a;
  }

  common(peer: PartyId, n: number): Uint32Array {
    if (peer === this.next) return this.withNext.words(n);
    if (peer === this.prev) return this.withPrev.words(n);
    throw new Error(`party ${this.party}: no common randomness with itself`);
  }

  local(n: number): Uint32Array {
    return this.own.words(n);
  }
}

/**
 * Seed setup over the (authenticated) transport: P_i draws k_i, sends it to
 * P_{i+1} and receives k_{i-1} from P_{i-1}. Cost: 1 round, 16 bytes sent per
 * party; call it in the "setup" phase.
 */
export async function setupPrfRandomness(transport: Transport): Promise<PrfRandomness> {
  const me = transport.party;
  const kNext = randomKey();
  transport.send(partyAt(me, 1), kNext);
  const kPrev = await transport.receive(partyAt(me, 2));
  if (kPrev.byteLength !== 16) {
    throw new Error(
      `party ${me}: seed from party ${partyAt(me, 2)} has ${kPrev.byteLength} bytes, expected 16`,
    );
  }
  return new PrfRandomness(me, kPrev, kNext);
}
