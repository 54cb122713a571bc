import { existsSync } from "node:fs";
import sharp from "sharp";

/**
 * Reads any image sharp can decode (PNG, JPEG, WebP, ...) and returns it as uint8 HWC of
 * the model's input shape: [h, w, 1] greyscale or [h, w, 3] RGB (28x28x1 for MNIST models,
 * 32x32x3 for CIFAR ones). Images of another size are resized to exactly h x w (stretched,
 * not cropped); transparent pixels are composited onto black. No normalisation is applied.
 */
export async function loadImageForModel(
  path: string,
  input: { shape: [number, number, number] },
): Promise<Uint8Array> {
  const [h, w, c] = input.shape;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1 || (c !== 1 && c !== 3)) {
    throw new Error(`input shape [${input.shape.join(", ")}] is not [h, w, 1] or [h, w, 3]`);
  }
  if (!existsSync(path)) throw new Error(`${path}: image file not found`);
  let pipeline = sharp(path, { failOn: "truncated" })
    .flatten({ background: { r: 0, g: 0, b: 0 } })
    .resize(w, h, { fit: "fill" });
  pipeline = c === 1 ? pipeline.greyscale() : pipeline.toColourspace("srgb");
  let result: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    result = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new Error(`${path}: cannot read image (${(e as Error).message})`);
  }
  const { data, info } = result;
  if (info.width !== w || info.height !== h) {
    throw new Error(`${path}: decoded to ${info.width}x${info.height}, expected ${w}x${h}`);
  }
  const got = info.channels;
  if (got === c) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // Grey source asked for RGB (or an extra channel slipped through): convert explicitly.
  const out = new Uint8Array(h * w * c);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < c; k++) out[p * c + k] = data[p * got + Math.min(k, got - 1)];
  }
  return out;
}
