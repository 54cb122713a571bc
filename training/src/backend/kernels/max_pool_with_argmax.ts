import * as tf from "@tensorflow/tfjs";
import { forEachWindowMax, type PoolGeometry, poolGeometry } from "./max_pool_grad";
import { asWasm, type KernelArgs } from "./util";

/**
 * Max pool values and argmax indices (NHWC flat index; without the batch term unless
 * `includeBatchInIndex`), first maximum in scan order, as tfjs's cpu backend computes them.
 */
export function maxPoolWithArgmaxMath(
  x: ArrayLike<number>,
  g: PoolGeometry,
  includeBatchInIndex: boolean,
  values: Float32Array,
  indexes: Int32Array,
): void {
  const perImage = g.h * g.w * g.c;
  forEachWindowMax(x, g, (o, arg, max) => {
    values[o] = max;
    indexes[o] = includeBatchInIndex ? arg : arg % perImage;
  });
}

function maxPoolWithArgmax({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { x } = inputs as { x: tf.TensorInfo };
  const a = attrs as unknown as tf.MaxPoolWithArgmaxAttrs;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    [1, 1],
    a.pad,
  );
  const g = poolGeometry(info);
  const wasm = asWasm(backend);
  const shape = [g.n, g.outH, g.outW, g.c];
  const values = wasm.makeOutput(shape, "float32");
  const indexes = wasm.makeOutput(shape, "int32");
  maxPoolWithArgmaxMath(
    wasm.typedArrayFromHeap(x),
    g,
    a.includeBatchInIndex,
    wasm.typedArrayFromHeap(values) as Float32Array,
    wasm.typedArrayFromHeap(indexes) as Int32Array,
  );
  return [values, indexes];
}

/** Replaces wasm's MaxPoolWithArgmax (same FLT_MIN start: windows with max <= 0 are wrong). */
export const maxPoolWithArgmaxConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolWithArgmax,
  backendName: "wasm",
  kernelFunc: maxPoolWithArgmax,
};
