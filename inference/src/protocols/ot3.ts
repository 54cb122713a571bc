import type { PartyContext } from "../context";
import { getBit } from "../ring/bits";
import type { PartyId } from "../transport/types";

/** The three roles of a 3-party OT, as party ids. */
export interface OtRoles {
  sender: PartyId;
  receiver: PartyId;
  helper: PartyId;
}

/**
 * 3-party OT (paper Alg. 1), 1-round form: the sender has (m0, m1) (n words
 * each), the receiver and the helper both know the packed choice bits c; the
 * receiver learns m_c. Sender and helper draw masks (w0, w1) from their
 * common seed; the sender sends (m0 ^ w0, m1 ^ w1) to the receiver and the
 * helper sends w_c, in the same round (the paper routes through the helper:
 * 2 rounds).
 * Cost: 1 round; sender sends 8n bytes, helper 4n bytes, receiver nothing.
 * Security: the receiver sees m_{1-c} ^ w_{1-c} with w_{1-c} unknown to it
 * (uniform); the helper and the sender receive nothing.
 * Inputs: `messages` at the sender, `choice` at receiver and helper (null elsewhere).
 * Returns m_c at the receiver, null elsewhere.
 */
export async function ot3(
  ctx: PartyContext,
  roles: OtRoles,
  n: number,
  messages: [Uint32Array, Uint32Array] | null,
  choice: Uint32Array | null,
): Promise<Uint32Array | null> {
  const { sender, receiver, helper } = roles;
  if (new Set([sender, receiver, helper]).size !== 3)
    throw new Error("ot3: roles must be three distinct parties");
  if (ctx.id === sender) {
    if (!messages || messages[0].length !== n || messages[1].length !== n) {
      throw new Error(`party ${ctx.id}: ot3 sender needs two messages of ${n} words`);
    }
    const w = ctx.rand.common(helper, 2 * n);
    const out = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      out[i] = messages[0][i] ^ w[i];
      out[n + i] = messages[1][i] ^ w[n + i];
    }
    ctx.sendU32(receiver, out);
    return null;
  }
  if (!choice)
    throw new Error(
      `party ${ctx.id}: ot3 ${ctx.id === receiver ? "receiver" : "helper"} needs the choice bits`,
    );
  if (ctx.id === helper) {
    const w = ctx.rand.common(sender, 2 * n);
    const sel = new Uint32Array(n);
    for (let i = 0; i < n; i++) sel[i] = w[getBit(choice, i) * n + i];
    ctx.sendU32(receiver, sel);
    return null;
  }
  const [masked, sel] = await Promise.all([
    ctx.recvU32(sender, 2 * n, "ot3 masked messages"),
    ctx.recvU32(helper, n, "ot3 selected mask"),
  ]);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = masked[getBit(choice, i) * n + i] ^ sel[i];
  return out;
}
