import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../checkpoint/atomic";

/** Renders SVG text to a PNG file (atomically); returns the PNG's size. */
export async function renderPng(
  svg: string,
  path: string,
): Promise<{ width: number; height: number }> {
  const { data, info } = await sharp(Buffer.from(svg)).png().toBuffer({ resolveWithObject: true });
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, data);
  return { width: info.width, height: info.height };
}
