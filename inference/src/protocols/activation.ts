import type { PartyContext } from "../context";
import { type AShare, aAddConst, aNeg } from "../sharing/arith";
import { type BShare, bNot } from "../sharing/bool";
import { b2a } from "./b2a";
import { bitMul } from "./bit-mul";
import type { MsbPrep, MsbProtocol } from "./msb";

/**
 * Sign bit (paper's 1 ^ MSB): [x >= 0 ? 1 : 0] as boolean shares, plus its
 * ring form when the MSB protocol yields one for free.
 * Cost: that of the MSB protocol (NOT is local).
 */
export async function signBits(
  ctx: PartyContext,
  msb: MsbProtocol,
  x: AShare,
  prep?: MsbPrep,
): Promise<{ bits: BShare; arith?: AShare }> {
  const r = await msb.extract(ctx, x, prep);
  const bits = bNot(ctx, r.msb);
  const arith = r.msbArith ? aAddConst(ctx, aNeg(r.msbArith), 1) : undefined;
  return { bits, arith };
}

/**
 * {@link signBits} on a 3-of-3 sharing (a linear layer's output before its
 * reshare), for MSB protocols with `extract3`. Cost: that of `extract3`.
 */
export async function signBits3(
  ctx: PartyContext,
  msb: MsbProtocol,
  z: Uint32Array,
  prep?: MsbPrep,
): Promise<{ bits: BShare; arith?: AShare }> {
  if (!msb.extract3) throw new Error(`MSB protocol ${msb.name} takes no 3-of-3 input`);
  const r = await msb.extract3(ctx, z, prep);
  const bits = bNot(ctx, r.msb);
  const arith = r.msbArith ? aAddConst(ctx, aNeg(r.msbArith), 1) : undefined;
  return { bits, arith };
}

/**
 * Secure Sign (paper Alg. 4) to ring values {0,1}: MSB, NOT, then
 * bit-to-arithmetic ({@link b2a}, 1 round, 24n bytes) unless the MSB protocol
 * already gave the ring form.
 */
export async function signArith(
  ctx: PartyContext,
  msb: MsbProtocol,
  x: AShare,
  prep?: MsbPrep,
): Promise<AShare> {
  const s = await signBits(ctx, msb, x, prep);
  return s.arith ?? b2a(ctx, s.bits);
}

/**
 * Secure ReLU (paper Alg. 5): MSB, NOT, then {@link bitMul} (1 round,
 * 48n bytes): relu(x) = (x >= 0) * x.
 */
export async function relu(
  ctx: PartyContext,
  msb: MsbProtocol,
  x: AShare,
  prep?: MsbPrep,
): Promise<AShare> {
  const s = await signBits(ctx, msb, x, prep);
  return bitMul(ctx, s.bits, x);
}
