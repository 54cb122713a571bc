import { describe, expect, it } from "vitest";
import { augmentBatch, makeRng } from "./augment";

/** An rng that replays fixed values (to pick dy, dx, flip exactly). */
function scripted(values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error("scripted rng exhausted");
    return values[i++];
  };
}
/** rng value that makes floor(9 * r) = k. */
const off = (k: number): number => (k + 0.5) / 9;

function randomImages(n: number, h: number, w: number, c: number, seed: number): Uint8Array {
  const rng = makeRng(seed);
  const out = new Uint8Array(n * h * w * c);
  for (let i = 0; i < out.length; i++) out[i] = 1 + Math.floor(rng() * 255); // never 0
  return out;
}

/** Reference: explicit pad, crop, flip on one image. */
function reference(
  img: Uint8Array,
  h: number,
  w: number,
  c: number,
  dy: number,
  dx: number,
  flip: boolean,
): Uint8Array {
  const P = 4;
  const ph = h + 2 * P;
  const pw = w + 2 * P;
  const padded = new Uint8Array(ph * pw * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) padded[((y + P) * pw + x + P) * c + k] = img[(y * w + x) * c + k];
  const crop = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++)
        crop[(y * w + x) * c + k] = padded[((y + dy) * pw + x + dx) * c + k];
  if (!flip) return crop;
  const out = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = crop[(y * w + (w - 1 - x)) * c + k];
  return out;
}

describe("makeRng", () => {
  it("is deterministic by seed, in [0, 1), and roughly uniform", () => {
    const a = makeRng(42);
    const b = makeRng(42);
    const c = makeRng(43);
    const xs = Array.from({ length: 10000 }, () => a());
    expect(Array.from({ length: 10000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 10 }, () => c())).not.toEqual(xs.slice(0, 10));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });
});

describe("augmentBatch", () => {
  const [h, w, c] = [32, 32, 3];

  it("offset 4,4 without flip is the identity; with flip it mirrors each row", () => {
    const img = randomImages(1, h, w, c, 1);
    expect(
      Buffer.from(augmentBatch(img, [h, w, c], 1, scripted([off(4), off(4), 0.9]))).equals(
        Buffer.from(img),
      ),
    ).toBe(true);
    const flipped = augmentBatch(img, [h, w, c], 1, scripted([off(4), off(4), 0.1]));
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++)
          expect(flipped[(y * w + x) * c + k]).toBe(img[(y * w + w - 1 - x) * c + k]);
  });

  it("offset 0 shifts the image right/down by 4 and fills with zeros", () => {
    const img = randomImages(1, h, w, c, 2);
    const out = augmentBatch(img, [h, w, c], 1, scripted([off(0), off(0), 0.9]));
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = out[(y * w + x) * c];
        if (y < 4 || x < 4) expect(v).toBe(0);
        else expect(v).toBe(img[((y - 4) * w + x - 4) * c]);
      }
  });

  it("matches an explicit pad-crop-flip reference for every offset and both flips", () => {
    const g = [8, 10, 2] as [number, number, number];
    const img = randomImages(1, ...g, 3);
    for (let dy = 0; dy <= 8; dy++)
      for (let dx = 0; dx <= 8; dx++)
        for (const flip of [false, true]) {
          const out = augmentBatch(img, g, 1, scripted([off(dy), off(dx), flip ? 0.2 : 0.7]));
          const ref = reference(img, g[0], g[1], g[2], dy, dx, flip);
          expect(Buffer.from(out).equals(Buffer.from(ref))).toBe(true);
        }
  });

  it("is deterministic by seed, varies across seeds, and does not modify its input", () => {
    const imgs = randomImages(16, h, w, c, 4);
    const copy = imgs.slice();
    const a = augmentBatch(imgs, [h, w, c], 16, makeRng(7));
    const b = augmentBatch(imgs, [h, w, c], 16, makeRng(7));
    const d = augmentBatch(imgs, [h, w, c], 16, makeRng(8));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(d))).toBe(false);
    expect(Buffer.from(imgs).equals(Buffer.from(copy))).toBe(true);
  });

  it("uses rng values 0 and just below 1 safely (offsets 0 and 8)", () => {
    const img = randomImages(2, h, w, c, 5);
    const out = augmentBatch(
      img,
      [h, w, c],
      2,
      scripted([0, 0.9999999999, 0.9, 0.9999999999, 0, 0.9]),
    );
    expect(
      Buffer.from(out.subarray(0, h * w * c)).equals(
        Buffer.from(reference(img.subarray(0, h * w * c), h, w, c, 0, 8, false)),
      ),
    ).toBe(true);
    expect(
      Buffer.from(out.subarray(h * w * c)).equals(
        Buffer.from(reference(img.subarray(h * w * c), h, w, c, 8, 0, false)),
      ),
    ).toBe(true);
  });

  it("rejects a buffer too small for count images", () => {
    expect(() => augmentBatch(new Uint8Array(10), [32, 32, 3], 1, makeRng(1))).toThrow(
      /augmentBatch: 10 bytes/,
    );
  });
});

describe("augmentBatch options (MNIST: pad 2, no flip)", () => {
  const [h, w, c] = [28, 28, 1];

  it("pad 2 shifts by at most 2 pixels and never flips", () => {
    const img = randomImages(1, h, w, c, 9);
    // floor(5 * r) = 0 -> dy = dx = -2; r = 0.1 would flip with flip allowed
    const out = augmentBatch(img, [h, w, c], 1, scripted([0.01, 0.01, 0.1]), {
      pad: 2,
      flip: false,
    });
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const sy = y - 2;
        const sx = x - 2;
        const want = sy < 0 || sx < 0 ? 0 : img[sy * w + sx];
        expect(out[y * w + x]).toBe(want);
      }
    const flipped = augmentBatch(img, [h, w, c], 1, scripted([0.01, 0.01, 0.1]), { pad: 2 });
    expect(flipped[2 * w + 2]).toBe(img[w - 1 - 2 - 2]); // mirrored column, then shifted
  });

  it("pad 0 without flip is the identity", () => {
    const img = randomImages(3, h, w, c, 10);
    expect(augmentBatch(img, [h, w, c], 3, makeRng(1), { pad: 0, flip: false })).toEqual(img);
  });
});
