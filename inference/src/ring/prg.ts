import { createCipheriv, randomBytes } from "node:crypto";

/**
 * AES-128-CTR keystream as a PRG (node:crypto). Two parties holding the same
 * 16-byte key draw identical streams as long as they make the same sequence of
 * draws (the protocols draw in a fixed order for that reason).
 */
export class AesCtrPrg {
  private readonly cipher;

  constructor(key: Uint8Array) {
    if (key.byteLength !== 16)
      throw new Error(`AES-128 PRG key must be 16 bytes, got ${key.byteLength}`);
    this.cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  }

  /** The next n pseudorandom 32-bit words. */
  words(n: number): Uint32Array {
    const out = new Uint32Array(n);
    if (n === 0) return out;
    const bytes = this.cipher.update(new Uint8Array(out.buffer));
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
}

/** A fresh random 16-byte key. */
export function randomKey(): Uint8Array {
  return new Uint8Array(randomBytes(16));
}
