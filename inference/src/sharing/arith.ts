import type { PartyContext } from "../context";

/**
 * Replicated arithmetic share over Z_2^32 of n values x = x0 + x1 + x2:
 * party P_i holds s0 = x_i and s1 = x_{i+1}. All operations here are local.
 */
export interface AShare {
  readonly n: number;
  readonly s0: Uint32Array;
  readonly s1: Uint32Array;
}

export function aShare(s0: Uint32Array, s1: Uint32Array): AShare {
  if (s0.length !== s1.length)
    throw new Error(`AShare: components differ in length (${s0.length} vs ${s1.length})`);
  return { n: s0.length, s0, s1 };
}

function check(x: AShare, y: AShare, op: string): void {
  if (x.n !== y.n) throw new Error(`${op}: share lengths differ (${x.n} vs ${y.n})`);
}

export function aAdd(x: AShare, y: AShare): AShare {
  check(x, y, "aAdd");
  const s0 = new Uint32Array(x.n);
  const s1 = new Uint32Array(x.n);
  for (let i = 0; i < x.n; i++) {
    s0[i] = x.s0[i] + y.s0[i];
    s1[i] = x.s1[i] + y.s1[i];
  }
  return { n: x.n, s0, s1 };
}

export function aSub(x: AShare, y: AShare): AShare {
  check(x, y, "aSub");
  const s0 = new Uint32Array(x.n);
  const s1 = new Uint32Array(x.n);
  for (let i = 0; i < x.n; i++) {
    s0[i] = x.s0[i] - y.s0[i];
    s1[i] = x.s1[i] - y.s1[i];
  }
  return { n: x.n, s0, s1 };
}

export function aNeg(x: AShare): AShare {
  const s0 = new Uint32Array(x.n);
  const s1 = new Uint32Array(x.n);
  for (let i = 0; i < x.n; i++) {
    s0[i] = -x.s0[i];
    s1[i] = -x.s1[i];
  }
  return { n: x.n, s0, s1 };
}

/** x * c for a public scalar c (mod 2^32). */
export function aMulConst(x: AShare, c: number): AShare {
  const k = c | 0;
  const s0 = new Uint32Array(x.n);
  const s1 = new Uint32Array(x.n);
  for (let i = 0; i < x.n; i++) {
    s0[i] = Math.imul(x.s0[i], k);
    s1[i] = Math.imul(x.s1[i], k);
  }
  return { n: x.n, s0, s1 };
}

/**
 * x + c for a public c (a scalar, or one value per element): added to the
 * component x_0, held by P0 (as s0) and P2 (as s1).
 */
export function aAddConst(ctx: PartyContext, x: AShare, c: number | Uint32Array): AShare {
  const s0 = x.s0.slice();
  const s1 = x.s1.slice();
  const target = ctx.id === 0 ? s0 : ctx.id === 2 ? s1 : null;
  if (target) {
    if (typeof c === "number") {
      const k = c | 0;
      for (let i = 0; i < x.n; i++) target[i] += k;
    } else {
      if (c.length !== x.n) throw new Error(`aAddConst: ${c.length} constants for ${x.n} values`);
      for (let i = 0; i < x.n; i++) target[i] += c[i];
    }
  }
  return { n: x.n, s0, s1 };
}

/** Elements [start, start + n) of a share. */
export function aSlice(x: AShare, start: number, n: number): AShare {
  return { n, s0: x.s0.subarray(start, start + n), s1: x.s1.subarray(start, start + n) };
}

/** Concatenation of shares (to batch several calls into one round). */
export function aConcat(parts: readonly AShare[]): AShare {
  let n = 0;
  for (const p of parts) n += p.n;
  const s0 = new Uint32Array(n);
  const s1 = new Uint32Array(n);
  let o = 0;
  for (const p of parts) {
    s0.set(p.s0, o);
    s1.set(p.s1, o);
    o += p.n;
  }
  return { n, s0, s1 };
}

/** Gathers elements by index (public re-indexing: pooling windows, flattening). */
export function aGather(x: AShare, idx: ArrayLike<number>): AShare {
  const s0 = new Uint32Array(idx.length);
  const s1 = new Uint32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    s0[i] = x.s0[idx[i]];
    s1[i] = x.s1[idx[i]];
  }
  return { n: idx.length, s0, s1 };
}
