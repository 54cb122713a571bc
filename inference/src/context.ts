import type { RandomnessProvider } from "./randomness/types";
import { bytesToU32, u32ToBytes } from "./ring/u32";
import { type PartyId, partyAt, type Transport } from "./transport/types";

/** The roles of the parties (paper 3.2). */
export const DATA_OWNER: PartyId = 0;
export const MODEL_OWNER: PartyId = 1;
export const HELPER: PartyId = 2;

/**
 * What one party's protocol code needs: its id, its links and its correlated
 * randomness, with relative addressing (next = i+1, prev = i-1 mod 3).
 */
export class PartyContext {
  readonly next: PartyId;
  readonly prev: PartyId;

  constructor(
    readonly id: PartyId,
    readonly transport: Transport,
    readonly rand: RandomnessProvider,
  ) {
    if (transport.party !== id)
      throw new Error(`party ${id}: transport belongs to party ${transport.party}`);
    if (rand.party !== id)
      throw new Error(`party ${id}: randomness belongs to party ${rand.party}`);
    this.next = partyAt(id, 1);
    this.prev = partyAt(id, 2);
  }

  /** The party k places after this one (k mod 3). */
  rel(k: number): PartyId {
    return partyAt(this.id, k);
  }

  /** My position relative to party `p`: (id - p) mod 3. */
  offsetFrom(p: PartyId): number {
    return (this.id - p + 3) % 3;
  }

  sendU32(peer: PartyId, data: Uint32Array): void {
    this.transport.send(peer, u32ToBytes(data));
  }

  async recvU32(peer: PartyId, expected: number, what: string): Promise<Uint32Array> {
    const b = await this.transport.receive(peer);
    return bytesToU32(b, expected, `party ${this.id}: ${what} from party ${peer}`);
  }
}
