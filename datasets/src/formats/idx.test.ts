import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { makeRng } from "../augment";
import { encodeIdx, mnistFromIdx, parseIdx } from "./idx";

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = makeRng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

describe("parseIdx", () => {
  it("round-trips plain and gzipped files of random shapes", () => {
    for (const dims of [[1], [7], [3, 28, 28], [2, 3, 4, 5]]) {
      const size = dims.reduce((a, b) => a * b, 1);
      const data = randomBytes(size, size);
      const file = encodeIdx(dims, data);
      for (const buf of [file, gzipSync(file)]) {
        const got = parseIdx(buf, "x.idx");
        expect(got.dims).toEqual(dims);
        expect(Array.from(got.data)).toEqual(Array.from(data));
      }
    }
  });

  it("reads the header big-endian", () => {
    const file = encodeIdx([258], new Uint8Array(258));
    expect(Array.from(file.subarray(0, 8))).toEqual([0, 0, 8, 1, 0, 0, 1, 2]);
  });

  it("names the file when it is truncated", () => {
    const file = encodeIdx([4, 28, 28], randomBytes(4 * 784, 1));
    expect(() => parseIdx(file.subarray(0, file.length - 1), "train-images-idx3-ubyte")).toThrow(
      /train-images-idx3-ubyte: truncated/,
    );
    expect(() => parseIdx(file.subarray(0, 10), "h.idx")).toThrow(/h.idx: truncated IDX header/);
  });

  it("names the file for a truncated gzip stream", () => {
    const gz = gzipSync(encodeIdx([100], randomBytes(100, 2)));
    expect(() => parseIdx(gz.subarray(0, gz.length - 10), "labels.gz")).toThrow(
      /labels.gz: corrupt or truncated gzip/,
    );
  });

  it("rejects bad magic, wrong type and trailing bytes", () => {
    const good = encodeIdx([3], new Uint8Array([1, 2, 3]));
    const badMagic = good.slice();
    badMagic[0] = 1;
    expect(() => parseIdx(badMagic, "a")).toThrow(/a: not an IDX file/);
    const badType = good.slice();
    badType[2] = 0x0d;
    expect(() => parseIdx(badType, "b")).toThrow(/b: IDX type 0xd/);
    const trailing = new Uint8Array([...good, 9]);
    expect(() => parseIdx(trailing, "c")).toThrow(/c: 1 unexpected bytes/);
  });
});

describe("mnistFromIdx", () => {
  it("checks shapes, counts and label range", () => {
    const imgs = parseIdx(encodeIdx([2, 28, 28], new Uint8Array(2 * 784)), "i");
    const labs = parseIdx(encodeIdx([2], new Uint8Array([3, 9])), "l");
    expect(mnistFromIdx(imgs, labs, "i", "l").count).toBe(2);
    const wrongCount = parseIdx(encodeIdx([3], new Uint8Array([1, 2, 3])), "l3");
    expect(() => mnistFromIdx(imgs, wrongCount, "i", "l3")).toThrow(/l3: 3 labels for 2 images/);
    const badLabel = parseIdx(encodeIdx([2], new Uint8Array([3, 10])), "lb");
    expect(() => mnistFromIdx(imgs, badLabel, "i", "lb")).toThrow(/lb: label 10 at index 1/);
    const wrongShape = parseIdx(encodeIdx([2, 27, 28], new Uint8Array(2 * 27 * 28)), "ws");
    expect(() => mnistFromIdx(wrongShape, labs, "ws", "l")).toThrow(/ws: expected N x 28 x 28/);
  });
});
