import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";

const execFileAsync = promisify(execFile);

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Throws, naming `file`, when the data's sha256 is not the pinned one. */
export function verifySha256(data: Uint8Array, expected: string, file: string): void {
  const got = sha256(data);
  if (got !== expected) {
    throw new Error(
      `${file}: sha256 mismatch (expected ${expected}, got ${got}); corrupt or changed file`,
    );
  }
}

function cString(buf: Uint8Array, start: number, len: number): string {
  const slice = buf.subarray(start, start + len);
  const end = slice.indexOf(0);
  return Buffer.from(end < 0 ? slice : slice.subarray(0, end)).toString("utf8");
}

/**
 * Reads the regular files of a (gunzipped) tar archive into memory: path -> contents
 * (views into `tar`). Handles ustar prefixes, pax `path` records and GNU long names.
 */
export function untar(tar: Uint8Array, archive: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break; // end-of-archive block
    const sizeText = cString(header, 124, 12).trim();
    const size = Number.parseInt(sizeText || "0", 8);
    if (!Number.isFinite(size) || size < 0)
      throw new Error(`${archive}: corrupt tar header at byte ${off}`);
    const type = String.fromCharCode(header[156] || 0x30);
    let name = cString(header, 0, 100);
    if (cString(header, 257, 6) === "ustar") {
      const prefix = cString(header, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const dataStart = off + 512;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) throw new Error(`${archive}: truncated tar archive (entry ${name})`);
    const data = tar.subarray(dataStart, dataEnd);
    if (type === "x") {
      const text = Buffer.from(data).toString("utf8");
      const m = /\d+ path=([^\n]*)\n/.exec(text);
      if (m) longName = m[1];
    } else if (type === "L") {
      longName = cString(data, 0, data.length);
    } else {
      if (type === "0" || type === "\0" || type === "7") files.set(longName ?? name, data);
      longName = undefined;
    }
    off = dataStart + Math.ceil(size / 512) * 512;
  }
  return files;
}

/**
 * Downloads `pkg@version` with `npm pack` (which uses the user's npm registry settings and
 * runs no install scripts) into a temporary directory, checks the tarball's sha256, and
 * returns its files with the leading `package/` stripped. The temporary directory is removed.
 */
export async function npmPackFiles(
  pkg: string,
  version: string,
  tarballSha256: string,
): Promise<Map<string, Uint8Array>> {
  const spec = `${pkg}@${version}`;
  const dir = await mkdtemp(join(tmpdir(), "cbnn-npm-pack-"));
  try {
    try {
      await execFileAsync(
        "npm",
        ["pack", spec, "--pack-destination", dir, "--ignore-scripts", "--silent"],
        { maxBuffer: 16 * 1024 * 1024 },
      );
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`npm pack ${spec} failed: ${(err.stderr || err.message).trim()}`);
    }
    const tgzName = (await readdir(dir)).find((f) => f.endsWith(".tgz"));
    if (tgzName === undefined) throw new Error(`npm pack ${spec} produced no tarball`);
    const tgz = await readFile(join(dir, tgzName));
    verifySha256(tgz, tarballSha256, `${tgzName} (npm pack ${spec})`);
    let tar: Uint8Array;
    try {
      tar = gunzipSync(tgz);
    } catch (e) {
      throw new Error(`${tgzName}: corrupt gzip data (${(e as Error).message})`);
    }
    const out = new Map<string, Uint8Array>();
    for (const [path, data] of untar(tar, tgzName)) {
      out.set(path.replace(/^package\//, ""), data);
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Picks the pinned files out of a package and checks each one's sha256. */
export function verifiedFiles(
  files: Map<string, Uint8Array>,
  pinned: Record<string, string>,
  where: string,
): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [path, hash] of Object.entries(pinned)) {
    const data = files.get(path);
    if (data === undefined) throw new Error(`${where}: missing file ${path}`);
    verifySha256(data, hash, `${where}/${path}`);
    out.set(path, data);
  }
  return out;
}
