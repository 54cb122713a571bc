import type { PartyContext } from "../context";
import { HELPER } from "../context";
import { getBit, packBits, wordsFor } from "../ring/bits";
import { type AShare, aAddConst, aMulConst } from "../sharing/arith";
import { type BShare, bXorConst } from "../sharing/bool";
import { b2a } from "./b2a";
import type { MsbPrep, MsbProtocol, MsbResult } from "./msb";
import { mulA } from "./mul";

interface CbnnPrep extends MsbPrep {
  readonly protocol: "cbnn";
  /** [beta]^B, a random secret bit per value. */
  beta: BShare;
  /** [beta]^A, the same bits in the ring. */
  betaArith: AShare;
  /** [(1 - 2 beta) r] with r in [1, 3 * 2^k - 2]. */
  sr: AShare;
}

/** Largest input bound (bits) the cbnn MSB can be made correct for. */
export const CBNN_MAX_INPUT_BITS = 28;

/**
 * Mask width k for an input bound |x| < 2^inputBits: r = 1 + r0 + r1 + r2 with
 * r_i < 2^k and (2|x| + 1) r < 2^31 needs k <= 28 - inputBits.
 */
export function cbnnMaskBits(inputBits: number): number {
  if (!Number.isInteger(inputBits) || inputBits < 1 || inputBits > CBNN_MAX_INPUT_BITS) {
    throw new RangeError(
      `cbnn MSB: input bound must be 1..${CBNN_MAX_INPUT_BITS} bits, got ${inputBits}`,
    );
  }
  return CBNN_MAX_INPUT_BITS - inputBits;
}

/**
 * The paper's MSB extraction (Alg. 3), opt-in, corrected so that it is right:
 * u = (-1)^beta (2x + 1) r is opened to the helper P2 only, which returns
 * MSB(u) = MSB(x) ^ beta; the result is MSB(u) ^ beta.
 * - 2x + 1 instead of x: x = 0 would give u = 0 whatever beta (wrong half the time);
 * - r is bounded, r = 1 + r0 + r1 + r2 with each r_i < 2^k drawn from the
 *   2-of-3 seeds (no single party knows r), k = 28 - inputBits, so that
 *   |(2x + 1) r| < 2^31 never wraps when |x| < 2^inputBits (with r up to 2^31
 *   as in the paper, x r wraps and the MSB is wrong).
 * Preprocessing (input independent, setup phase): [beta]^B from 2-of-3
 * randomness, [beta]^A by {@link b2a} (1 round), [(1 - 2 beta) r] by one
 * multiplication (1 round): 2 rounds, P0 sends 20n bytes, P1 and P2 8n each.
 * Online, 2 rounds: (1) z_i = local product share of (2x + 1)(1 - 2 beta) r
 * plus a zero share; P0 and P1 send theirs to P2 (4n bytes each), P2 opens u;
 * (2) P2 sends the packed bits f = MSB(u) to P0 and P1 (4 ceil(n/32) bytes
 * each). The result, boolean f ^ [beta] and ring beta + f (1 - 2 beta), is local.
 * With `openTo: "all"` (as the paper does) every party sends its z_i to both
 * others: 1 round, 8n bytes per party, and every party learns |u|.
 * LEAKAGE (to P2 only): |u| = |2x + 1| r with r uniform on a small range, so
 * |x| is hidden from P2 only up to a factor of about 3 * 2^k: e.g. |u| = 1
 * reveals x in {0, -1}, and the ratio of two opened values reveals the ratio
 * of the |2x + 1| up to the masks. With inputBits = 28, r = 1 and P2 learns
 * |2x + 1| exactly. The sign of x stays hidden from P2 by beta; P0 and P1 see
 * only f = MSB(x) ^ beta, uniform to them (each misses a component of beta).
 * Use only where that is acceptable.
 */
export function cbnnMsb(
  inputBits = 24,
  opts: {
    /**
     * "helper" (default): u is opened to P2 only (2 rounds, 4n/4n/8w bytes).
     * "all": opened to every party as in the paper (1 round, 8n bytes each;
     * every party learns |u|).
     */
    openTo?: "helper" | "all";
  } = {},
): MsbProtocol {
  const openTo = opts.openTo ?? "helper";
  if (openTo !== "helper" && openTo !== "all")
    throw new Error(`cbnn MSB: openTo must be "helper" or "all", got "${openTo as string}"`);
  const k = cbnnMaskBits(inputBits);
  const mask = k === 0 ? 0 : (1 << k) - 1;
  return {
    name: "cbnn",
    bits: inputBits,
    async prepare(ctx: PartyContext, n: number): Promise<MsbPrep> {
      const [b0, b1] = ctx.rand.random2of3(wordsFor(n));
      const beta: BShare = { bits: n, s0: b0, s1: b1 };
      const [r0, r1] = ctx.rand.random2of3(n);
      for (let i = 0; i < n; i++) {
        r0[i] &= mask;
        r1[i] &= mask;
      }
      const r = aAddConst(ctx, { n, s0: r0, s1: r1 }, 1);
      const betaArith = await b2a(ctx, beta);
      const s = aAddConst(ctx, aMulConst(betaArith, -2), 1);
      const sr = await mulA(ctx, s, r);
      const prep: CbnnPrep = { protocol: "cbnn", n, beta, betaArith, sr };
      return prep;
    },
    async extract(ctx: PartyContext, x: AShare, prep?: MsbPrep): Promise<MsbResult> {
      const n = x.n;
      const p = (prep ?? (await this.prepare(ctx, n))) as CbnnPrep;
      if (p.protocol !== "cbnn" || p.n !== n)
        throw new Error(`cbnn MSB: preprocessing for ${p.n} values, got ${n}`);
      const t = aAddConst(ctx, aMulConst(x, 2), 1);
      const z = ctx.rand.zeroShare(n);
      for (let i = 0; i < n; i++) {
        z[i] += Math.imul(t.s0[i], p.sr.s0[i] + p.sr.s1[i]) + Math.imul(t.s1[i], p.sr.s0[i]);
      }
      let flipWords: Uint32Array;
      if (openTo === "all") {
        ctx.sendU32(ctx.next, z);
        ctx.sendU32(ctx.prev, z);
        const [zn, zp] = await Promise.all([
          ctx.recvU32(ctx.next, n, "cbnn MSB product"),
          ctx.recvU32(ctx.prev, n, "cbnn MSB product"),
        ]);
        const flip = new Uint8Array(n);
        for (let i = 0; i < n; i++) flip[i] = ((z[i] + zn[i] + zp[i]) >>> 31) & 1;
        flipWords = packBits(flip);
      } else if (ctx.id === HELPER) {
        const [zn, zp] = await Promise.all([
          ctx.recvU32(ctx.next, n, "cbnn MSB product"),
          ctx.recvU32(ctx.prev, n, "cbnn MSB product"),
        ]);
        const flip = new Uint8Array(n);
        for (let i = 0; i < n; i++) flip[i] = ((z[i] + zn[i] + zp[i]) >>> 31) & 1;
        flipWords = packBits(flip);
        ctx.sendU32(ctx.next, flipWords);
        ctx.sendU32(ctx.prev, flipWords);
      } else {
        ctx.sendU32(HELPER, z);
        flipWords = await ctx.recvU32(HELPER, wordsFor(n), "cbnn MSB sign bits");
      }
      const msb = bXorConst(ctx, p.beta, flipWords);
      // in the ring: flip ? 1 - beta : beta  =  beta + flip (1 - 2 beta)
      const s0 = new Uint32Array(n);
      const s1 = new Uint32Array(n);
      const pub = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const f = getBit(flipWords, i);
        s0[i] = f ? -p.betaArith.s0[i] : p.betaArith.s0[i];
        s1[i] = f ? -p.betaArith.s1[i] : p.betaArith.s1[i];
        pub[i] = f;
      }
      const msbArith = aAddConst(ctx, { n, s0, s1 }, pub);
      return { msb, msbArith };
    },
  };
}
