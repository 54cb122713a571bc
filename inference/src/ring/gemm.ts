/**
 * Ring GEMM over Z_2^32: C = A.B (mod 2^32), A is m x k, B is k x n, row-major.
 * Wrap-around is exact: products use Math.imul and sums are truncated with >>> 0.
 *
 * This is the reference loop; a faster kernel with the same signature replaces
 * it and is benchmarked against `matmulU32Naive`.
 */
export function matmulU32Naive(
  a: Uint32Array,
  b: Uint32Array,
  m: number,
  k: number,
  n: number,
  out: Uint32Array = new Uint32Array(m * n),
): Uint32Array {
  if (a.length < m * k || b.length < k * n || out.length < m * n) {
    throw new RangeError(`matmulU32: buffers too small for ${m}x${k} . ${k}x${n}`);
  }
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc = (acc + Math.imul(a[i * k + t], b[t * n + j])) | 0;
      out[i * n + j] = acc >>> 0;
    }
  }
  return out;
}

/** C = A.B (mod 2^32); see {@link matmulU32Naive} for the contract. */
export const matmulU32 = matmulU32Naive;
