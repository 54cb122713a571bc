import type { PartyContext } from "../context";
import type { AShare } from "../sharing/arith";
import type { BShare } from "../sharing/bool";

/** Result of an MSB extraction: packed boolean shares of MSB(x) (1 = negative). */
export interface MsbResult {
  msb: BShare;
  /** Arithmetic shares of the same bits, when the protocol yields them for free. */
  msbArith?: AShare;
}

/**
 * One interface, several MSB protocols (CrypTen-style variants): the secure
 * default ({@link secureMsb}) and the paper's Alg. 3 ({@link cbnnMsb}, opt-in).
 * `prepare` does the input-independent part (charged to the setup phase by the
 * runner); `extract` is the online part.
 */
export interface MsbProtocol {
  readonly name: "secure" | "cbnn";
  /** The input bound the protocol is correct for: |x| < 2^bits (31: any int32). */
  readonly bits?: number;
  /**
   * Input-independent preprocessing for n values (may be a no-op).
   * `arith: true` asks for the material that makes `msbArith` available
   * (the cbnn MSB always yields it).
   */
  prepare(ctx: PartyContext, n: number, opts?: { arith?: boolean }): Promise<MsbPrep>;
  extract(ctx: PartyContext, x: AShare, prep?: MsbPrep): Promise<MsbResult>;
  /**
   * Optional: the MSB of x given as a 3-of-3 additive sharing (this party's
   * component z_i, already masked by a zero share), e.g. a linear layer's
   * output before its reshare, saving that reshare.
   */
  extract3?(ctx: PartyContext, z: Uint32Array, prep?: MsbPrep): Promise<MsbResult>;
}

/** Opaque preprocessing material of an MSB protocol. */
export interface MsbPrep {
  readonly protocol: "secure" | "cbnn";
  readonly n: number;
}
