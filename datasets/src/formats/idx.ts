import { gunzipSync } from "node:zlib";

/** A parsed IDX file (the MNIST format): unsigned-byte data and its dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const GZIP_MAGIC0 = 0x1f;
const GZIP_MAGIC1 = 0x8b;
/** IDX type code for unsigned bytes (the only one MNIST uses). */
const IDX_UBYTE = 0x08;

export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === GZIP_MAGIC0 && buf[1] === GZIP_MAGIC1;
}

/** Gunzips when the buffer starts with the gzip magic; `file` names it in errors. */
export function maybeGunzip(buf: Uint8Array, file: string): Uint8Array {
  if (!isGzip(buf)) return buf;
  try {
    return gunzipSync(buf);
  } catch (e) {
    throw new Error(`${file}: corrupt or truncated gzip data (${(e as Error).message})`);
  }
}

/**
 * Parses an IDX file (gzipped or not). Header: two zero bytes, a type code (0x08 = ubyte),
 * the number of dimensions, then each dimension as a big-endian uint32; the data follows.
 * `file` names the file in error messages.
 */
export function parseIdx(raw: Uint8Array, file: string): IdxArray {
  const buf = maybeGunzip(raw, file);
  if (buf.length < 4) throw new Error(`${file}: too short for an IDX header (${buf.length} bytes)`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new Error(`${file}: not an IDX file (bad magic ${buf[0]} ${buf[1]})`);
  }
  if (buf[2] !== IDX_UBYTE) {
    throw new Error(`${file}: IDX type 0x${buf[2].toString(16)} is not unsigned byte (0x08)`);
  }
  const ndim = buf[3];
  if (ndim < 1) throw new Error(`${file}: IDX file with 0 dimensions`);
  const headerLen = 4 + 4 * ndim;
  if (buf.length < headerLen) throw new Error(`${file}: truncated IDX header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  const have = buf.length - headerLen;
  if (have < size) {
    throw new Error(
      `${file}: truncated: header says ${dims.join("x")} = ${size} bytes of data, file has ${have}`,
    );
  }
  if (have > size) {
    throw new Error(`${file}: ${have - size} unexpected bytes after the ${dims.join("x")} data`);
  }
  return { dims, data: buf.subarray(headerLen, headerLen + size) };
}

/** Encodes a ubyte IDX file (used by tests and to write synthetic fixtures). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new Error(`encodeIdx: dims ${dims} need ${size} bytes`);
  const out = new Uint8Array(4 + 4 * dims.length + size);
  const view = new DataView(out.buffer);
  out[2] = IDX_UBYTE;
  out[3] = dims.length;
  for (let i = 0; i < dims.length; i++) view.setUint32(4 + 4 * i, dims[i], false);
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Checks an MNIST image/label pair and returns images (N*28*28) and labels (N). */
export function mnistFromIdx(
  images: IdxArray,
  labels: IdxArray,
  imagesFile: string,
  labelsFile: string,
): { count: number; images: Uint8Array; labels: Uint8Array } {
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new Error(`${imagesFile}: expected N x 28 x 28 images, got ${images.dims.join("x")}`);
  }
  if (labels.dims.length !== 1) {
    throw new Error(`${labelsFile}: expected a 1-D label array, got ${labels.dims.join("x")}`);
  }
  const count = images.dims[0];
  if (labels.dims[0] !== count) {
    throw new Error(`${labelsFile}: ${labels.dims[0]} labels for ${count} images in ${imagesFile}`);
  }
  for (let i = 0; i < count; i++) {
    if (labels.data[i] > 9) throw new Error(`${labelsFile}: label ${labels.data[i]} at index ${i}`);
  }
  return { count, images: images.data, labels: labels.data };
}
