import * as tf from "@tensorflow/tfjs";
import { asWasm, type KernelArgs } from "./util";

/** Shape each buffer was first multiplied with, as the `b` operand (wasm caches packed `b`). */
const packedShape = new WeakMap<object, string>();

/**
 * Decide whether `b` must be copied before wasm's matmul: its packed-weights cache is keyed
 * on the buffer id alone, so the same buffer seen again under another shape (a reshape)
 * would reuse stale packing and give garbage. Pure bookkeeping, exported for tests.
 */
export function needsFreshCopy(dataId: object, shape: readonly number[]): boolean {
  const key = shape.join(",");
  const seen = packedShape.get(dataId);
  if (seen === undefined) {
    packedShape.set(dataId, key);
    return false;
  }
  return seen !== key;
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** A copy under a new buffer id (our Identity shares the buffer, so it cannot serve here). */
const freshCopy: tf.KernelConfig = {
  kernelName: "CbnnFreshCopy",
  backendName: "wasm",
  kernelFunc: ({ inputs, backend }: KernelArgs) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const wasm = asWasm(backend);
    const out = wasm.makeOutput([...x.shape], x.dtype);
    const dst = wasm.typedArrayFromHeap(out) as Float32Array;
    dst.set(wasm.typedArrayFromHeap(x) as Float32Array);
    return out;
  },
};

/**
 * Wrap wasm's BatchMatMul or _FusedMatMul so that (1) transposeA/transposeB become explicit
 * Transpose kernels followed by a plain multiply (wasm's transposed path is ~10x slower) and
 * (2) a `b` buffer reused under a new shape is copied first (stale packed-weights cache).
 */
export function makeMatMulConfig(kernelName: string, original: tf.KernelConfig): tf.KernelConfig {
  const transpose = tf.getKernel(tf.Transpose, "wasm");
  if (transpose == null) throw new Error(`${kernelName}: wasm Transpose kernel missing`);
  return {
    kernelName,
    backendName: "wasm",
    kernelFunc: (args: KernelArgs) => {
      const { backend, attrs } = args;
      const inputs = { ...args.inputs } as Record<string, tf.TensorInfo>;
      const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
      const temps: tf.TensorInfo[] = [];
      const run = (k: tf.KernelConfig, x: tf.TensorInfo, a: tf.NamedAttrMap): tf.TensorInfo => {
        const t = k.kernelFunc({ inputs: { x }, backend, attrs: a }) as tf.TensorInfo;
        temps.push(t);
        return t;
      };
      const a = inputs.a!;
      const b = inputs.b!;
      if (transposeA) inputs.a = run(transpose, a, { perm: swapLastTwo(a.shape.length) });
      if (transposeB) inputs.b = run(transpose, b, { perm: swapLastTwo(b.shape.length) });
      else if (needsFreshCopy(b.dataId, b.shape)) inputs.b = run(freshCopy, b, {});
      try {
        return original.kernelFunc({
          inputs,
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        });
      } finally {
        for (const t of temps) asWasm(backend).disposeData(t.dataId);
      }
    },
  };
}
