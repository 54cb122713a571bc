import type { PartyContext } from "../context";
import type { AShare } from "../sharing/arith";
import { reshareA } from "./reshare";

/** A public bilinear ring map f(x, w) (matmul or a convolution) for a whole batch. */
export type BilinearOp = (x: Uint32Array, w: Uint32Array) => Uint32Array;

/**
 * Linear layer (paper Alg. 2) on shared input and shared weights:
 * z_i = f(x_i, w_i + w_{i+1}) + f(x_{i+1}, w_i) + bias_i + zero_i (two kernel
 * calls instead of three, by bilinearity), then reshare.
 * `bias` is a replicated share of the bias; it is broadcast over the output:
 * output element e gets bias[e % bias.n] (per-channel or per-position bias).
 * Cost: 1 round; each party sends 4m bytes for m outputs.
 * Security: the only message is z_i under a fresh zero share.
 */
export async function linear(
  ctx: PartyContext,
  op: BilinearOp,
  x: AShare,
  w: AShare,
  bias: AShare,
): Promise<AShare> {
  return reshareA(ctx, linearShares(ctx, op, x, w, bias));
}

/**
 * The local part of {@link linear}: this party's component z_i of a 3-of-3
 * sharing of the output, masked by a fresh zero share, before the reshare.
 * No messages (a protocol that accepts 3-of-3 input, such as the secure
 * MSB's `extract3`, can take it directly and save the reshare).
 */
export function linearShares(
  ctx: PartyContext,
  op: BilinearOp,
  x: AShare,
  w: AShare,
  bias: AShare,
): Uint32Array {
  const wSum = new Uint32Array(w.n);
  for (let i = 0; i < w.n; i++) wSum[i] = w.s0[i] + w.s1[i];
  const a = op(x.s0, wSum);
  const b = op(x.s1, w.s0);
  const m = a.length;
  if (bias.n === 0 || m % bias.n !== 0)
    throw new Error(`linear: ${m} outputs do not tile a bias of ${bias.n}`);
  const z = ctx.rand.zeroShare(m);
  const bn = bias.n;
  for (let e = 0; e < m; e++) z[e] += a[e] + b[e] + bias.s0[e % bn];
  return z;
}
