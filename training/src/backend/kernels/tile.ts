import * as tf from "@tensorflow/tfjs";
import { asWasm, type KernelArgs } from "./util";

type Typed = Float32Array | Int32Array | Uint8Array;

/**
 * out = tile(src, reps), row-major: one axis at a time, each block copied `reps[a]` times
 * with TypedArray.set (memcpy speed); the last pass writes into `out`.
 */
export function tileMath(
  src: Typed,
  shape: readonly number[],
  reps: readonly number[],
  out: Typed,
) {
  if (shape.length !== reps.length) throw new Error("tile: reps must have one entry per axis");
  let cur: Typed = src;
  const curShape = [...shape];
  const axes = reps.map((r, a) => (r > 1 ? a : -1)).filter((a) => a >= 0);
  if (axes.length === 0) {
    out.set(src);
    return;
  }
  axes.forEach((a, k) => {
    const r = reps[a]!;
    let outer = 1;
    for (let i = 0; i < a; i++) outer *= curShape[i]!;
    let inner = 1;
    for (let i = a; i < curShape.length; i++) inner *= curShape[i]!;
    const last = k === axes.length - 1;
    const next: Typed = last
      ? out
      : new (cur.constructor as new (n: number) => Typed)(outer * inner * r);
    for (let o = 0; o < outer; o++) {
      const block = cur.subarray(o * inner, (o + 1) * inner);
      for (let t = 0; t < r; t++) next.set(block, (o * r + t) * inner);
    }
    curShape[a] = curShape[a]! * r;
    cur = next;
  });
}

/** Replaces wasm's Tile (about 25x slower than a concat; it sits in the batch-norm gradient). */
export function makeTileConfig(original: tf.KernelConfig | undefined): tf.KernelConfig {
  return {
    kernelName: tf.Tile,
    backendName: "wasm",
    kernelFunc: (args: KernelArgs) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { reps } = args.attrs as unknown as tf.TileAttrs;
      if (x.dtype === "string" || x.dtype === "complex64") {
        if (original == null) throw new Error(`Tile: dtype ${x.dtype} not supported on wasm`);
        return original.kernelFunc(args);
      }
      const wasm = asWasm(args.backend);
      const outShape = x.shape.map((d, i) => d * reps[i]!);
      const out = wasm.makeOutput(outShape, x.dtype);
      tileMath(
        wasm.typedArrayFromHeap(x) as Typed,
        x.shape,
        reps,
        wasm.typedArrayFromHeap(out) as Typed,
      );
      return out;
    },
  };
}
