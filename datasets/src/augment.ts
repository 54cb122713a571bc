/** Zero padding on each side used by `augmentBatch`'s random crop. */
export const AUGMENT_PAD = 4;

/**
 * mulberry32: a small, fast, seeded PRNG with 32 bits of state. Returns a function giving
 * uniform numbers in [0, 1). Same seed, same sequence.
 */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Crop padding (default AUGMENT_PAD = 4) and whether to flip (default true; false for digits). */
export interface AugmentOptions {
  pad?: number;
  flip?: boolean;
}

/**
 * Standard CIFAR augmentation, per image: pad by 4 zero pixels on each side, take a random
 * h x w crop, then flip horizontally with probability 1/2. `images` is NHWC uint8 with
 * `count` images of `shape` = [h, w, c]; returns a new array of the same size.
 *
 * Per image, `rng` is called three times, in this order: row offset dy = floor(9 * r),
 * column offset dx = floor(9 * r) (offsets into the padded image; 4 = no shift), then
 * flip = r < 0.5. So output(y, x) = input(y + dy - 4, x' + dx - 4) with x' = w - 1 - x when
 * flipped, else x; pixels that fall in the padding are 0. `opts.pad` changes the 4 (MNIST
 * uses 2), and `opts.flip: false` never flips (digits), still drawing the third number.
 */
export function augmentBatch(
  images: Uint8Array,
  shape: [number, number, number],
  count: number,
  rng: () => number,
  opts: AugmentOptions = {},
): Uint8Array {
  const pad = opts.pad ?? AUGMENT_PAD;
  const mayFlip = opts.flip ?? true;
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`augmentBatch: bad pad ${pad}`);
  const [h, w, c] = shape;
  const size = h * w * c;
  if (!Number.isInteger(count) || count < 0) throw new Error(`augmentBatch: bad count ${count}`);
  if (images.length < count * size) {
    throw new Error(
      `augmentBatch: ${images.length} bytes for ${count} images of ${h}x${w}x${c} (${count * size} needed)`,
    );
  }
  const span = 2 * pad + 1;
  const out = new Uint8Array(count * size);
  for (let n = 0; n < count; n++) {
    const dy = Math.min(span - 1, Math.floor(rng() * span)) - pad;
    const dx = Math.min(span - 1, Math.floor(rng() * span)) - pad;
    const flip = rng() < 0.5 && mayFlip;
    const base = n * size;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue; // padding row: stays zero
      const srcRow = base + sy * w * c;
      const dstRow = base + y * w * c;
      for (let x = 0; x < w; x++) {
        const sx = (flip ? w - 1 - x : x) + dx;
        if (sx < 0 || sx >= w) continue;
        const s = srcRow + sx * c;
        const d = dstRow + x * c;
        for (let k = 0; k < c; k++) out[d + k] = images[s + k];
      }
    }
  }
  return out;
}
