/**
 * Ring GEMM over Z_2^32: C = A.B (mod 2^32), A is m x k, B is k x n, row-major.
 * Wrap-around is exact: products use Math.imul and sums are truncated with `| 0`
 * (a sum of five int32 values is below 2^53, so the double sum is exact before
 * the truncation); results are read back as uint32 through the Uint32Array.
 */

/** Throws unless `value` is a non-negative safe integer. */
function checkDim(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`matmulU32: ${what} must be a non-negative integer, got ${value}`);
  }
}

function checkArgs(
  a: Uint32Array,
  b: Uint32Array,
  m: number,
  k: number,
  n: number,
  out: Uint32Array,
): void {
  checkDim(m, "m");
  checkDim(k, "k");
  checkDim(n, "n");
  if (a.length < m * k) {
    throw new RangeError(`matmulU32: a has ${a.length} elements, ${m}x${k} needs ${m * k}`);
  }
  if (b.length < k * n) {
    throw new RangeError(`matmulU32: b has ${b.length} elements, ${k}x${n} needs ${k * n}`);
  }
  if (out.length < m * n) {
    throw new RangeError(`matmulU32: out has ${out.length} elements, ${m}x${n} needs ${m * n}`);
  }
  if (overlaps(out, m * n, a, m * k) || overlaps(out, m * n, b, k * n)) {
    throw new RangeError("matmulU32: out must not overlap a or b");
  }
}

function overlaps(x: Uint32Array, xLen: number, y: Uint32Array, yLen: number): boolean {
  if (x.buffer !== y.buffer || xLen === 0 || yLen === 0) return false;
  const x0 = x.byteOffset;
  const y0 = y.byteOffset;
  return x0 < y0 + 4 * yLen && y0 < x0 + 4 * xLen;
}

/**
 * The reference loop (i-j-k with one accumulator per output); kept to test and
 * benchmark {@link matmulU32} against.
 */
export function matmulU32Naive(
  a: Uint32Array,
  b: Uint32Array,
  m: number,
  k: number,
  n: number,
  out: Uint32Array = new Uint32Array(m * n),
): Uint32Array {
  checkArgs(a, b, m, k, n, out);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc = (acc + Math.imul(a[i * k + t], b[t * n + j])) | 0;
      out[i * n + j] = acc >>> 0;
    }
  }
  return out;
}

/** Column block: 8 output rows of JB int32 (16 KiB) plus 4 rows of B stay in L1. */
const JB = 512;
/** Depth block: a KB x JB panel of B (512 KiB) stays in L2 across row blocks. */
const KB = 256;

/**
 * C = A.B (mod 2^32), A m x k, B k x n, row-major; `out` (m x n) must not
 * overlap `a` or `b`. Blocked i-k-j kernel: the output rows are accumulators
 * (an Int32Array view of `out`), updated 8 rows x 4 depth steps at a time so
 * each loaded B element feeds 8 multiply-adds and each output load/store
 * carries 4. Columns and depth are blocked for the caches (JB, KB).
 * Exact: equals {@link matmulU32Naive} on every input.
 */
export function matmulU32(
  a: Uint32Array,
  b: Uint32Array,
  m: number,
  k: number,
  n: number,
  out: Uint32Array = new Uint32Array(m * n),
): Uint32Array {
  checkArgs(a, b, m, k, n, out);
  const A = new Int32Array(a.buffer, a.byteOffset, m * k);
  const B = new Int32Array(b.buffer, b.byteOffset, k * n);
  const O = new Int32Array(out.buffer, out.byteOffset, m * n);
  O.fill(0);
  if (k === 0) return out;
  const m8 = m - (m % 8);
  for (let j0 = 0; j0 < n; j0 += JB) {
    const j1 = Math.min(n, j0 + JB);
    for (let t0 = 0; t0 < k; t0 += KB) {
      const t1 = Math.min(k, t0 + KB);
      const t4 = t1 - ((t1 - t0) % 4);
      let i = 0;
      for (; i < m8; i += 8) block8(A, B, O, i, k, n, j0, j1, t0, t4, t1);
      if (m - i >= 4) {
        block4(A, B, O, i, k, n, j0, j1, t0, t4, t1);
        i += 4;
      }
      for (; i < m; i++) row1(A, B, O, i, k, n, j0, j1, t0, t4, t1);
    }
  }
  return out;
}

/** Rows i..i+7, columns [j0, j1), depth [t0, t1) with [t0, t4) a multiple of 4. */
function block8(
  A: Int32Array,
  B: Int32Array,
  O: Int32Array,
  i: number,
  k: number,
  n: number,
  j0: number,
  j1: number,
  t0: number,
  t4: number,
  t1: number,
): void {
  const o0 = i * n;
  const o1 = o0 + n;
  const o2 = o1 + n;
  const o3 = o2 + n;
  const o4 = o3 + n;
  const o5 = o4 + n;
  const o6 = o5 + n;
  const o7 = o6 + n;
  let t = t0;
  for (; t < t4; t += 4) {
    const ra0 = i * k + t;
    const ra1 = ra0 + k;
    const ra2 = ra1 + k;
    const ra3 = ra2 + k;
    const ra4 = ra3 + k;
    const ra5 = ra4 + k;
    const ra6 = ra5 + k;
    const ra7 = ra6 + k;
    const a00 = A[ra0],
      a01 = A[ra0 + 1],
      a02 = A[ra0 + 2],
      a03 = A[ra0 + 3];
    const a10 = A[ra1],
      a11 = A[ra1 + 1],
      a12 = A[ra1 + 2],
      a13 = A[ra1 + 3];
    const a20 = A[ra2],
      a21 = A[ra2 + 1],
      a22 = A[ra2 + 2],
      a23 = A[ra2 + 3];
    const a30 = A[ra3],
      a31 = A[ra3 + 1],
      a32 = A[ra3 + 2],
      a33 = A[ra3 + 3];
    const a40 = A[ra4],
      a41 = A[ra4 + 1],
      a42 = A[ra4 + 2],
      a43 = A[ra4 + 3];
    const a50 = A[ra5],
      a51 = A[ra5 + 1],
      a52 = A[ra5 + 2],
      a53 = A[ra5 + 3];
    const a60 = A[ra6],
      a61 = A[ra6 + 1],
      a62 = A[ra6 + 2],
      a63 = A[ra6 + 3];
    const a70 = A[ra7],
      a71 = A[ra7 + 1],
      a72 = A[ra7 + 2],
      a73 = A[ra7 + 3];
    const b0 = t * n;
    const b1 = b0 + n;
    const b2 = b1 + n;
    const b3 = b2 + n;
    for (let j = j0; j < j1; j++) {
      const x0 = B[b0 + j];
      const x1 = B[b1 + j];
      const x2 = B[b2 + j];
      const x3 = B[b3 + j];
      O[o0 + j] =
        (O[o0 + j] +
          Math.imul(a00, x0) +
          Math.imul(a01, x1) +
          Math.imul(a02, x2) +
          Math.imul(a03, x3)) |
        0;
      O[o1 + j] =
        (O[o1 + j] +
          Math.imul(a10, x0) +
          Math.imul(a11, x1) +
          Math.imul(a12, x2) +
          Math.imul(a13, x3)) |
        0;
      O[o2 + j] =
        (O[o2 + j] +
          Math.imul(a20, x0) +
          Math.imul(a21, x1) +
          Math.imul(a22, x2) +
          Math.imul(a23, x3)) |
        0;
      O[o3 + j] =
        (O[o3 + j] +
          Math.imul(a30, x0) +
          Math.imul(a31, x1) +
          Math.imul(a32, x2) +
          Math.imul(a33, x3)) |
        0;
      O[o4 + j] =
        (O[o4 + j] +
          Math.imul(a40, x0) +
          Math.imul(a41, x1) +
          Math.imul(a42, x2) +
          Math.imul(a43, x3)) |
        0;
      O[o5 + j] =
        (O[o5 + j] +
          Math.imul(a50, x0) +
          Math.imul(a51, x1) +
          Math.imul(a52, x2) +
          Math.imul(a53, x3)) |
        0;
      O[o6 + j] =
        (O[o6 + j] +
          Math.imul(a60, x0) +
          Math.imul(a61, x1) +
          Math.imul(a62, x2) +
          Math.imul(a63, x3)) |
        0;
      O[o7 + j] =
        (O[o7 + j] +
          Math.imul(a70, x0) +
          Math.imul(a71, x1) +
          Math.imul(a72, x2) +
          Math.imul(a73, x3)) |
        0;
    }
  }
  for (; t < t1; t++) {
    const ra0 = i * k + t;
    const a0 = A[ra0];
    const a1 = A[ra0 + k];
    const a2 = A[ra0 + 2 * k];
    const a3 = A[ra0 + 3 * k];
    const a4 = A[ra0 + 4 * k];
    const a5 = A[ra0 + 5 * k];
    const a6 = A[ra0 + 6 * k];
    const a7 = A[ra0 + 7 * k];
    const rb = t * n;
    for (let j = j0; j < j1; j++) {
      const x = B[rb + j];
      O[o0 + j] = (O[o0 + j] + Math.imul(a0, x)) | 0;
      O[o1 + j] = (O[o1 + j] + Math.imul(a1, x)) | 0;
      O[o2 + j] = (O[o2 + j] + Math.imul(a2, x)) | 0;
      O[o3 + j] = (O[o3 + j] + Math.imul(a3, x)) | 0;
      O[o4 + j] = (O[o4 + j] + Math.imul(a4, x)) | 0;
      O[o5 + j] = (O[o5 + j] + Math.imul(a5, x)) | 0;
      O[o6 + j] = (O[o6 + j] + Math.imul(a6, x)) | 0;
      O[o7 + j] = (O[o7 + j] + Math.imul(a7, x)) | 0;
    }
  }
}

/** Rows i..i+3 (the m % 8 tail), as {@link block8}. */
function block4(
  A: Int32Array,
  B: Int32Array,
  O: Int32Array,
  i: number,
  k: number,
  n: number,
  j0: number,
  j1: number,
  t0: number,
  t4: number,
  t1: number,
): void {
  const o0 = i * n;
  const o1 = o0 + n;
  const o2 = o1 + n;
  const o3 = o2 + n;
  let t = t0;
  for (; t < t4; t += 4) {
    const ra0 = i * k + t;
    const ra1 = ra0 + k;
    const ra2 = ra1 + k;
    const ra3 = ra2 + k;
    const a00 = A[ra0],
      a01 = A[ra0 + 1],
      a02 = A[ra0 + 2],
      a03 = A[ra0 + 3];
    const a10 = A[ra1],
      a11 = A[ra1 + 1],
      a12 = A[ra1 + 2],
      a13 = A[ra1 + 3];
    const a20 = A[ra2],
      a21 = A[ra2 + 1],
      a22 = A[ra2 + 2],
      a23 = A[ra2 + 3];
    const a30 = A[ra3],
      a31 = A[ra3 + 1],
      a32 = A[ra3 + 2],
      a33 = A[ra3 + 3];
    const b0 = t * n;
    const b1 = b0 + n;
    const b2 = b1 + n;
    const b3 = b2 + n;
    for (let j = j0; j < j1; j++) {
      const x0 = B[b0 + j];
      const x1 = B[b1 + j];
      const x2 = B[b2 + j];
      const x3 = B[b3 + j];
      O[o0 + j] =
        (O[o0 + j] +
          Math.imul(a00, x0) +
          Math.imul(a01, x1) +
          Math.imul(a02, x2) +
          Math.imul(a03, x3)) |
        0;
      O[o1 + j] =
        (O[o1 + j] +
          Math.imul(a10, x0) +
          Math.imul(a11, x1) +
          Math.imul(a12, x2) +
          Math.imul(a13, x3)) |
        0;
      O[o2 + j] =
        (O[o2 + j] +
          Math.imul(a20, x0) +
          Math.imul(a21, x1) +
          Math.imul(a22, x2) +
          Math.imul(a23, x3)) |
        0;
      O[o3 + j] =
        (O[o3 + j] +
          Math.imul(a30, x0) +
          Math.imul(a31, x1) +
          Math.imul(a32, x2) +
          Math.imul(a33, x3)) |
        0;
    }
  }
  for (; t < t1; t++) {
    const ra0 = i * k + t;
    const a0 = A[ra0];
    const a1 = A[ra0 + k];
    const a2 = A[ra0 + 2 * k];
    const a3 = A[ra0 + 3 * k];
    const rb = t * n;
    for (let j = j0; j < j1; j++) {
      const x = B[rb + j];
      O[o0 + j] = (O[o0 + j] + Math.imul(a0, x)) | 0;
      O[o1 + j] = (O[o1 + j] + Math.imul(a1, x)) | 0;
      O[o2 + j] = (O[o2 + j] + Math.imul(a2, x)) | 0;
      O[o3 + j] = (O[o3 + j] + Math.imul(a3, x)) | 0;
    }
  }
}

/** One row i (the m % 4 tail, and all of a matrix-vector product), depth unrolled by 4. */
function row1(
  A: Int32Array,
  B: Int32Array,
  O: Int32Array,
  i: number,
  k: number,
  n: number,
  j0: number,
  j1: number,
  t0: number,
  t4: number,
  t1: number,
): void {
  const o = i * n;
  let t = t0;
  for (; t < t4; t += 4) {
    const ra = i * k + t;
    const a0 = A[ra];
    const a1 = A[ra + 1];
    const a2 = A[ra + 2];
    const a3 = A[ra + 3];
    const b0 = t * n;
    const b1 = b0 + n;
    const b2 = b1 + n;
    const b3 = b2 + n;
    for (let j = j0; j < j1; j++) {
      O[o + j] =
        (O[o + j] +
          Math.imul(a0, B[b0 + j]) +
          Math.imul(a1, B[b1 + j]) +
          Math.imul(a2, B[b2 + j]) +
          Math.imul(a3, B[b3 + j])) |
        0;
    }
  }
  for (; t < t1; t++) {
    const a0 = A[i * k + t];
    const rb = t * n;
    for (let j = j0; j < j1; j++) O[o + j] = (O[o + j] + Math.imul(a0, B[rb + j])) | 0;
  }
}
