import { ExportFormatError } from "./errors";
import type { TensorRef } from "./types";

/** The int32 values of one tensor (a view into the blob, no copy). */
export function tensorOf(weights: Int32Array, ref: TensorRef): Int32Array {
  if (ref.offset < 0 || ref.offset + ref.length > weights.length) {
    throw new ExportFormatError(
      "tensor",
      `offset ${ref.offset} + length ${ref.length} is outside the blob (${weights.length} int32 values)`,
    );
  }
  return weights.subarray(ref.offset, ref.offset + ref.length);
}
