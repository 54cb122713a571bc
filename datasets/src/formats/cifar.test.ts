import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { makeRng } from "../augment";
import {
  CIFAR_IMAGE_BYTES,
  CIFAR_RECORD_BYTES,
  decodeCifarPng,
  encodeCifarBin,
  parseCifarBin,
  parseCifarLabelJson,
} from "./cifar";

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = makeRng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

describe("parseCifarBin", () => {
  it("reads label then R, G, B planes into HWC", () => {
    const rec = new Uint8Array(CIFAR_RECORD_BYTES);
    rec[0] = 7;
    // pixel (y=1, x=2) -> plane index 34; give it R=10, G=20, B=30
    rec[1 + 34] = 10;
    rec[1 + 1024 + 34] = 20;
    rec[1 + 2048 + 34] = 30;
    const { count, images, labels } = parseCifarBin(rec, "data_batch_1.bin");
    expect(count).toBe(1);
    expect(labels[0]).toBe(7);
    const p = (1 * 32 + 2) * 3;
    expect(Array.from(images.subarray(p, p + 3))).toEqual([10, 20, 30]);
    expect(images.reduce((a, b) => a + b, 0)).toBe(60);
  });

  it("round-trips random records through encodeCifarBin", () => {
    const n = 5;
    const imgs = randomBytes(n * CIFAR_IMAGE_BYTES, 3);
    const labels = new Uint8Array([0, 9, 4, 4, 1]);
    const got = parseCifarBin(encodeCifarBin(imgs, labels), "t.bin");
    expect(got.count).toBe(n);
    expect(Buffer.from(got.images).equals(Buffer.from(imgs))).toBe(true);
    expect(Array.from(got.labels)).toEqual(Array.from(labels));
  });

  it("names the file when truncated, empty or with a bad label", () => {
    const buf = encodeCifarBin(randomBytes(2 * CIFAR_IMAGE_BYTES, 4), new Uint8Array([1, 2]));
    expect(() => parseCifarBin(buf.subarray(0, buf.length - 5), "test_batch.bin")).toThrow(
      /test_batch.bin: truncated or corrupt/,
    );
    expect(() => parseCifarBin(new Uint8Array(0), "e.bin")).toThrow(/e.bin: empty file/);
    const bad = buf.slice();
    bad[CIFAR_RECORD_BYTES] = 11;
    expect(() => parseCifarBin(bad, "b.bin")).toThrow(/b.bin: label 11 in record 1/);
  });
});

describe("decodeCifarPng", () => {
  it("returns each 1024-pixel RGB row as one HWC image", async () => {
    const n = 3;
    const imgs = randomBytes(n * CIFAR_IMAGE_BYTES, 5);
    const png = await sharp(imgs, { raw: { width: 1024, height: n, channels: 3 } })
      .png()
      .toBuffer();
    const got = await decodeCifarPng(png, "x.png");
    expect(got.count).toBe(n);
    expect(Buffer.from(got.images).equals(Buffer.from(imgs))).toBe(true);
  });

  it("drops an alpha channel", async () => {
    const rgba = randomBytes(1024 * 4, 6);
    const png = await sharp(rgba, { raw: { width: 1024, height: 1, channels: 4 } })
      .png()
      .toBuffer();
    const got = await decodeCifarPng(png, "a.png");
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) expect(got.images[p * 3 + c]).toBe(rgba[p * 4 + c]);
    }
  });

  it("names the file for corrupt or wrongly sized PNGs", async () => {
    const png = await sharp(randomBytes(1024 * 3 * 4, 7), {
      raw: { width: 1024, height: 4, channels: 3 },
    })
      .png({ compressionLevel: 0 })
      .toBuffer();
    await expect(decodeCifarPng(png.subarray(0, png.length - 200), "cut.png")).rejects.toThrow(
      /cut.png: cannot decode PNG/,
    );
    const narrow = await sharp(new Uint8Array(32 * 3), {
      raw: { width: 32, height: 1, channels: 3 },
    })
      .png()
      .toBuffer();
    await expect(decodeCifarPng(narrow, "n.png")).rejects.toThrow(/n.png: expected a 1024-pixel/);
  });
});

describe("parseCifarLabelJson", () => {
  it("accepts labels 0-9 and rejects others, naming the file", () => {
    expect(Array.from(parseCifarLabelJson("[3,8,0]", "l.json", 3))).toEqual([3, 8, 0]);
    expect(() => parseCifarLabelJson("[3,8", "l.json", 2)).toThrow(/l.json: corrupt JSON/);
    expect(() => parseCifarLabelJson("[3,8]", "l.json", 3)).toThrow(/l.json: 2 labels, expected 3/);
    expect(() => parseCifarLabelJson("[3,10]", "l.json", 2)).toThrow(/l.json: label 10 at index 1/);
    expect(() => parseCifarLabelJson('{"a":1}', "l.json", 1)).toThrow(
      /l.json: expected a JSON array/,
    );
  });
});
