import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRng } from "./augment";
import { loadImageForModel } from "./image";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cbnn-img-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = makeRng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
}

describe("loadImageForModel", () => {
  it("reads a 28x28 grey PNG exactly", async () => {
    const px = randomBytes(28 * 28, 1);
    const file = join(dir, "g.png");
    await sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(file);
    const got = await loadImageForModel(file, { shape: [28, 28, 1] });
    expect(got.length).toBe(784);
    expect(Buffer.from(got).equals(Buffer.from(px))).toBe(true);
  });

  it("reads a 32x32 RGB PNG exactly, in HWC order", async () => {
    const px = randomBytes(32 * 32 * 3, 2);
    const file = join(dir, "c.png");
    await sharp(px, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(file);
    const got = await loadImageForModel(file, { shape: [32, 32, 3] });
    expect(Buffer.from(got).equals(Buffer.from(px))).toBe(true);
  });

  it("reads a JPEG close to its source (lossy)", async () => {
    // A smooth gradient survives JPEG well; random noise would not.
    const px = new Uint8Array(32 * 32 * 3);
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) {
        px[(y * 32 + x) * 3] = x * 8;
        px[(y * 32 + x) * 3 + 1] = y * 8;
        px[(y * 32 + x) * 3 + 2] = 128;
      }
    const file = join(dir, "c.jpg");
    await sharp(px, { raw: { width: 32, height: 32, channels: 3 } })
      .jpeg({ quality: 95 })
      .toFile(file);
    const got = await loadImageForModel(file, { shape: [32, 32, 3] });
    let err = 0;
    for (let i = 0; i < px.length; i++) err += Math.abs(got[i] - px[i]);
    expect(err / px.length).toBeLessThan(4);
  });

  it("resizes and converts colour to grey, and grey to RGB", async () => {
    const file = join(dir, "big.png");
    const red = new Uint8Array(100 * 60 * 3);
    for (let i = 0; i < red.length; i += 3) red[i] = 200;
    await sharp(red, { raw: { width: 100, height: 60, channels: 3 } })
      .png()
      .toFile(file);
    const grey = await loadImageForModel(file, { shape: [28, 28, 1] });
    expect(grey.length).toBe(784);
    // sharp (libvips) converts in linear light: Y = 0.2126 * lin(R), then sRGB-encodes Y.
    const lin = (v: number): number => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    const enc = (v: number): number =>
      v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055;
    const want = 255 * enc(0.2126 * lin(200 / 255));
    expect(Math.abs(grey[0] - want)).toBeLessThan(2);
    expect(new Set(grey).size).toBe(1);
    const rgb = await loadImageForModel(file, { shape: [32, 32, 3] });
    expect(Array.from(rgb.subarray(0, 3))).toEqual([200, 0, 0]);
    const gfile = join(dir, "g2.png");
    await sharp(new Uint8Array(28 * 28).fill(77), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(gfile);
    const g3 = await loadImageForModel(gfile, { shape: [32, 32, 3] });
    expect(g3.length).toBe(32 * 32 * 3);
    expect(Array.from(g3.subarray(0, 3))).toEqual([77, 77, 77]);
  });

  it("gives clear errors for missing files, non-images and bad shapes", async () => {
    await expect(loadImageForModel(join(dir, "nope.png"), { shape: [28, 28, 1] })).rejects.toThrow(
      /nope.png: image file not found/,
    );
    const junk = join(dir, "junk.png");
    await writeFile(junk, "not an image");
    await expect(loadImageForModel(junk, { shape: [28, 28, 1] })).rejects.toThrow(
      /junk.png: cannot read image/,
    );
    await expect(loadImageForModel(junk, { shape: [28, 28, 2] })).rejects.toThrow(
      /not \[h, w, 1\] or \[h, w, 3\]/,
    );
  });
});
