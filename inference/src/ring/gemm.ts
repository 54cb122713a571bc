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
 * C = A.B (mod 2^32) in plain JavaScript (the fallback where WebAssembly SIMD
 * is missing); contract as {@link matmulU32}. Blocked i-k-j kernel: the output rows are accumulators
 * (an Int32Array view of `out`), updated 8 rows x 4 depth steps at a time so
 * each loaded B element feeds 8 multiply-adds and each output load/store
 * carries 4. Columns and depth are blocked for the caches (JB, KB).
 * Exact: equals {@link matmulU32Naive} on every input.
 */
export function matmulU32Js(
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

// ---------------------------------------------------------------------------
// WebAssembly SIMD kernel. i32x4.mul keeps the low 32 bits of each lane's
// product, which is exactly multiplication in Z_2^32, and i32x4.add wraps, so
// the kernel is exact. The module (a few hundred bytes) is assembled below
// from its opcodes, so there is no build step and no dependency.
// ---------------------------------------------------------------------------

function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  get: (l: number) => [0x20, ...uleb(l)],
  set: (l: number) => [0x21, ...uleb(l)],
  const: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  mul: [0x6c],
  geU: [0x4f],
  shl: [0x74],
  /** i32.load, align 4, static offset. */
  load: (offset: number) => [0x28, 0x02, ...uleb(offset)],
  /** v128.load / v128.store, align 16. */
  vload: [0xfd, 0x00, 0x04, 0x00],
  vstore: [0xfd, 0x0b, 0x04, 0x00],
  splat: [0xfd, 0x11],
  vadd: [0xfd, 0xae, 0x01],
  vmul: [0xfd, 0xb5, 0x01],
  vzero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  block: (body: number[]) => [0x02, 0x40, ...body, 0x0b],
  loop: (body: number[]) => [0x03, 0x40, ...body, 0x0b],
  brIf: (depth: number) => [0x0d, depth],
  br: (depth: number) => [0x0c, depth],
};

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/**
 * Bytes of a module exporting `mem` and `gemm(m, k, n, offA, offB, offC)`:
 * C[m, n] = A[m, k] . B[k, n] on int32 arrays at byte offsets in `mem`, for
 * m a multiple of `rows`, k and n multiples of 4 (the caller pads with zeros).
 * Loop order i-k-j like the JS kernel: `rows` output rows x 4 depth steps per
 * pass over the columns, 4 columns per SIMD lane group.
 */
export function gemmWasmBytes(rows: number): Uint8Array {
  const [M, K, N, OA, OB, OC] = [0, 1, 2, 3, 4, 5];
  let next = 6;
  const local = () => next++;
  const i = local();
  const t = local();
  const j = local();
  const rowBytes = local();
  const aRowBytes = local();
  const ap = local();
  const b = [local(), local(), local(), local()];
  const crow = Array.from({ length: rows }, local);
  const nI32 = next - 6;
  const av = Array.from({ length: rows }, () => [local(), local(), local(), local()]);
  const nV128 = next - 6 - nI32;
  const { get, set } = op;
  const code = [
    ...get(N),
    ...op.const(2),
    ...op.shl,
    ...set(rowBytes),
    ...get(K),
    ...op.const(2),
    ...op.shl,
    ...set(aRowBytes),
    ...op.const(0),
    ...set(i),
    ...op.block(
      op.loop([
        ...get(i),
        ...get(M),
        ...op.geU,
        ...op.brIf(1),
        ...crow.flatMap((c, r) => [
          ...get(i),
          ...op.const(r),
          ...op.add,
          ...get(rowBytes),
          ...op.mul,
          ...get(OC),
          ...op.add,
          ...set(c),
        ]),
        // zero the output rows
        ...op.const(0),
        ...set(j),
        ...op.block(
          op.loop([
            ...get(j),
            ...get(rowBytes),
            ...op.geU,
            ...op.brIf(1),
            ...crow.flatMap((c) => [...get(c), ...get(j), ...op.add, ...op.vzero, ...op.vstore]),
            ...get(j),
            ...op.const(16),
            ...op.add,
            ...set(j),
            ...op.br(0),
          ]),
        ),
        ...get(i),
        ...get(aRowBytes),
        ...op.mul,
        ...get(OA),
        ...op.add,
        ...set(ap),
        ...get(OB),
        ...set(b[0]),
        ...op.const(0),
        ...set(t),
        ...op.block(
          op.loop([
            ...get(t),
            ...get(K),
            ...op.geU,
            ...op.brIf(1),
            // splat A[i + r, t + s] for the 4 depth steps of each row
            ...av.flatMap((row, r) =>
              row.flatMap((l, s) => [
                ...get(ap),
                ...(r > 0 ? [...get(aRowBytes), ...op.const(r), ...op.mul, ...op.add] : []),
                ...op.load(4 * s),
                ...op.splat,
                ...set(l),
              ]),
            ),
            ...get(b[0]),
            ...get(rowBytes),
            ...op.add,
            ...set(b[1]),
            ...get(b[1]),
            ...get(rowBytes),
            ...op.add,
            ...set(b[2]),
            ...get(b[2]),
            ...get(rowBytes),
            ...op.add,
            ...set(b[3]),
            ...op.const(0),
            ...set(j),
            ...op.block(
              op.loop([
                ...get(j),
                ...get(rowBytes),
                ...op.geU,
                ...op.brIf(1),
                // C[i + r, j..j+3] += sum_s A[i + r, t + s] * B[t + s, j..j+3]
                ...crow.flatMap((c, r) => [
                  ...get(c),
                  ...get(j),
                  ...op.add,
                  ...get(c),
                  ...get(j),
                  ...op.add,
                  ...op.vload,
                  ...b.flatMap((bl, s) => [
                    ...get(av[r][s]),
                    ...get(bl),
                    ...get(j),
                    ...op.add,
                    ...op.vload,
                    ...op.vmul,
                    ...op.vadd,
                  ]),
                  ...op.vstore,
                ]),
                ...get(j),
                ...op.const(16),
                ...op.add,
                ...set(j),
                ...op.br(0),
              ]),
            ),
            ...get(ap),
            ...op.const(16),
            ...op.add,
            ...set(ap),
            ...get(b[3]),
            ...get(rowBytes),
            ...op.add,
            ...set(b[0]),
            ...get(t),
            ...op.const(4),
            ...op.add,
            ...set(t),
            ...op.br(0),
          ]),
        ),
        ...get(i),
        ...op.const(rows),
        ...op.add,
        ...set(i),
        ...op.br(0),
      ]),
    ),
  ];
  const body = [
    ...vec([
      [...uleb(nI32), I32],
      [...uleb(nV128), V128],
    ]),
    ...code,
    0x0b,
  ];
  const name = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0x00]])),
    ...section(3, vec([[0x00]])),
    ...section(5, vec([[0x00, 0x01]])),
    ...section(
      7,
      vec([
        [...name("gemm"), 0x00, 0x00],
        [...name("mem"), 0x02, 0x00],
      ]),
    ),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

/** The parts of the WebAssembly API used here (the repo's TS libs do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmGemm {
  mem: WasmMemory;
  gemm: (m: number, k: number, n: number, offA: number, offB: number, offC: number) => void;
}

/** Row blocks of the two compiled kernels: 4 rows for matrices, 1 for vectors. */
const WASM_ROWS = [1, 4] as const;
let wasmKernels: Map<number, WasmGemm> | null | undefined;

function loadWasm(): Map<number, WasmGemm> | null {
  if (wasmKernels !== undefined) return wasmKernels;
  wasmKernels = null;
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return null;
  try {
    const kernels = new Map<number, WasmGemm>();
    for (const rows of WASM_ROWS) {
      const bytes = gemmWasmBytes(rows);
      if (!wasm.validate(bytes)) return null;
      const { exports } = new wasm.Instance(new wasm.Module(bytes), {});
      kernels.set(rows, {
        mem: exports.mem as WasmMemory,
        gemm: exports.gemm as WasmGemm["gemm"],
      });
    }
    wasmKernels = kernels;
  } catch {
    wasmKernels = null;
  }
  return wasmKernels;
}

/** Whether this runtime has WebAssembly SIMD (Node 16.4+ does), i.e. whether {@link matmulU32Wasm} runs. */
export function wasmSimdAvailable(): boolean {
  return loadWasm() !== null;
}

/** Largest wasm heap used (A, B and C padded); larger products use the JS kernel. */
const WASM_MAX_BYTES = 2 ** 31;

function wasmBytesNeeded(m: number, k: number, n: number): number {
  const rows = m >= 4 ? 4 : 1;
  const mp = Math.ceil(m / rows) * rows;
  const kp = Math.ceil(k / 4) * 4;
  const np = Math.ceil(n / 4) * 4;
  return 4 * (mp * kp + kp * np + mp * np);
}

/**
 * C = A.B (mod 2^32) with the WebAssembly SIMD kernel; contract as
 * {@link matmulU32}. Copies A and B into the module's memory (zero-padding k
 * and n to multiples of 4 and m to the row block), runs the kernel and copies
 * C out. Throws when WebAssembly SIMD is unavailable.
 */
export function matmulU32Wasm(
  a: Uint32Array,
  b: Uint32Array,
  m: number,
  k: number,
  n: number,
  out: Uint32Array = new Uint32Array(m * n),
): Uint32Array {
  checkArgs(a, b, m, k, n, out);
  const kernels = loadWasm();
  if (kernels === null) throw new Error("matmulU32Wasm: WebAssembly SIMD is not available here");
  if (m === 0 || n === 0) return out;
  if (k === 0) return out.fill(0, 0, m * n);
  const rows = m >= 4 ? 4 : 1;
  const { mem, gemm } = kernels.get(rows)!;
  const mp = Math.ceil(m / rows) * rows;
  const kp = Math.ceil(k / 4) * 4;
  const np = Math.ceil(n / 4) * 4;
  const offB = 4 * mp * kp;
  const offC = offB + 4 * kp * np;
  const end = offC + 4 * mp * np;
  if (end > WASM_MAX_BYTES) {
    throw new RangeError(`matmulU32Wasm: ${m}x${k} . ${k}x${n} needs ${end} bytes of wasm memory`);
  }
  if (mem.buffer.byteLength < end) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
  const heap = new Uint32Array(mem.buffer);
  if (kp === k) {
    heap.set(a.subarray(0, m * k), 0);
    heap.fill(0, m * k, mp * kp);
  } else {
    heap.fill(0, 0, mp * kp);
    for (let i = 0; i < m; i++) heap.set(a.subarray(i * k, i * k + k), i * kp);
  }
  const hb = offB >> 2;
  if (np === n) {
    heap.set(b.subarray(0, k * n), hb);
    heap.fill(0, hb + k * n, hb + kp * np);
  } else {
    heap.fill(0, hb, hb + kp * np);
    for (let t = 0; t < k; t++) heap.set(b.subarray(t * n, t * n + n), hb + t * np);
  }
  gemm(mp, kp, np, 0, offB, offC);
  const hc = offC >> 2;
  if (np === n) {
    out.set(heap.subarray(hc, hc + m * n));
  } else {
    for (let i = 0; i < m; i++) out.set(heap.subarray(hc + i * np, hc + i * np + n), i * n);
  }
  return out;
}

/** Below this many multiply-adds the copies into wasm memory cost more than they save. */
const WASM_MIN_MACS = 1 << 12;

/** Which kernel {@link matmulU32} uses for large products here. */
export function matmulU32Kernel(): "wasm-simd" | "js" {
  return wasmSimdAvailable() ? "wasm-simd" : "js";
}

/**
 * C = A.B (mod 2^32), A m x k, B k x n, row-major; `out` (m x n) must not
 * overlap `a` or `b` and is returned. Exact: equals {@link matmulU32Naive} on
 * every input. Uses the WebAssembly SIMD kernel ({@link matmulU32Wasm}) where
 * the runtime has it and the product is not tiny, else the blocked JS kernel
 * ({@link matmulU32Js}).
 */
export function matmulU32(
  a: Uint32Array,
  b: Uint32Array,
  m: number,
  k: number,
  n: number,
  out: Uint32Array = new Uint32Array(m * n),
): Uint32Array {
  if (
    m * k * n >= WASM_MIN_MACS &&
    wasmBytesNeeded(m, k, n) <= WASM_MAX_BYTES &&
    loadWasm() !== null
  ) {
    return matmulU32Wasm(a, b, m, k, n, out);
  }
  return matmulU32Js(a, b, m, k, n, out);
}
