import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256, untar, verifiedFiles, verifySha256 } from "./npm";

function hasTar(): boolean {
  try {
    execFileSync("tar", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cbnn-tar-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("untar", () => {
  it.skipIf(!hasTar())("reads what system tar writes (ustar long paths and pax)", async () => {
    const longDir = `package/${"d".repeat(60)}/${"e".repeat(60)}`;
    await mkdir(join(dir, longDir), { recursive: true });
    const files: Record<string, Uint8Array> = {
      "package/a.txt": new TextEncoder().encode("hello"),
      "package/empty": new Uint8Array(0),
      [`${longDir}/big.bin`]: Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 255),
    };
    for (const [p, d] of Object.entries(files)) await writeFile(join(dir, p), d);
    for (const format of ["ustar", "pax"]) {
      const archive = join(dir, `t-${format}.tar`);
      execFileSync("tar", [`--format=${format}`, "-cf", archive, "-C", dir, "package"]);
      const got = untar(await readFile(archive), archive);
      for (const [p, d] of Object.entries(files)) {
        expect(got.has(p), `${format}: ${p}`).toBe(true);
        expect(Buffer.from(got.get(p)!).equals(Buffer.from(d))).toBe(true);
      }
    }
  });

  it("names the archive when it is truncated", () => {
    const header = new Uint8Array(512);
    header.set(new TextEncoder().encode("package/x"), 0);
    header.set(new TextEncoder().encode("00000001750\0"), 124); // 1000 bytes
    header[156] = 0x30;
    const tar = new Uint8Array(512 + 600);
    tar.set(header);
    expect(() => untar(tar, "pkg.tgz")).toThrow(/pkg.tgz: truncated tar archive/);
  });
});

describe("sha256 checks", () => {
  it("accepts the right hash and names the file on a wrong one", () => {
    const data = new TextEncoder().encode("abc");
    // FIPS 180-2 test vector
    expect(sha256(data)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(() => verifySha256(data, sha256(data), "f")).not.toThrow();
    expect(() => verifySha256(data, "0".repeat(64), "dir/f.png")).toThrow(
      /dir\/f.png: sha256 mismatch/,
    );
  });

  it("verifiedFiles names a missing pinned file", () => {
    const files = new Map([["a", new Uint8Array([1])]]);
    expect(() => verifiedFiles(files, { a: sha256(new Uint8Array([1])), b: "x" }, "pkg@1")).toThrow(
      /pkg@1: missing file b/,
    );
  });
});
