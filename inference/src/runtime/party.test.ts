import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { loadImageForModel } from "@cbnn/datasets";
import {
  evaluateFixed,
  exportModel,
  type ModelExport,
  randomDenseSignNet,
  randomImages,
  saveExport,
  seededRandom,
} from "@cbnn/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPartiesConfig } from "./config";
import { generateKeys, type KeyFiles } from "./keys";
import { freePorts, LocalEvalError, runLocalEval, writeLocalConfig } from "./local";
import { type PartyResult, runParty } from "./party";

let dir: string;
let keys: KeyFiles;
let exportDir: string;
let model: ModelExport;
let weights: Int32Array;

/** Minimal greyscale PNG writer (tests only). */
function writePng(file: string, w: number, h: number, pixels: Uint8Array): void {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Uint8Array) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Uint8Array) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, "latin1");
    Buffer.from(data).copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc(h * (w + 1));
  for (let y = 0; y < h; y++)
    Buffer.from(pixels.subarray(y * w, (y + 1) * w)).copy(raw, y * (w + 1) + 1);
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
      chunk("IHDR", ihdr),
      chunk("IDAT", deflateSync(raw)),
      chunk("IEND", new Uint8Array(0)),
    ]),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cbnn-party-test-"));
  keys = generateKeys(join(dir, "keys"));
  const r = exportModel(randomDenseSignNet(7), { source: { checkpoint: "test" } });
  model = r.model;
  weights = r.weights;
  exportDir = join(dir, "export");
  await saveExport(exportDir, model, weights);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function threeParties(
  images: Uint8Array,
  count: number,
  batch: number,
  extra: { msb?: "secure" | "cbnn" } = {},
): Promise<PartyResult[]> {
  const ports = await freePorts(3);
  const cfgFile = writeLocalConfig(join(dir, `cfg-${ports[0]}.json`), keys, ports, {
    timeoutMs: 20_000,
    connectTimeoutMs: 10_000,
  });
  const config = loadPartiesConfig(cfgFile);
  return Promise.all([
    runParty({ party: 0, config, msb: extra.msb, input: { raw: { images, count }, batch } }),
    runParty({ party: 1, config, exportDir }),
    runParty({ party: 2, config }),
  ]);
}

describe("runParty: three parties over mutual-TLS WebSockets (one process)", () => {
  it("matches evaluateFixed bit for bit on random and edge images over several batches", async () => {
    const count = 5;
    const images = randomImages(seededRandom(3), count, [8, 8, 1]);
    // edge inputs: all-zero and all-255 images
    images.fill(0, 0, 64);
    images.fill(255, 64, 128);
    const expected = Array.from(evaluateFixed(model, weights, images, count));
    for (const msb of ["secure"] as const) {
      const results = await threeParties(images, count, 2, { msb });
      const r0 = results[0];
      expect(r0.kind).toBe("report");
      if (r0.kind !== "report") return;
      expect(r0.report.logits).toEqual(expected);
      expect(r0.report.batches).toBe(3);
      expect(r0.report.msb).toBe(msb);
      expect(results[1].kind).toBe("cost");
      // every party sent something online, the model owner shared weights at setup
      for (const p of r0.report.parties) expect(p.online.bytesSent).toBeGreaterThan(0);
      expect(r0.report.parties[1].setup.bytesSent).toBeGreaterThan(0);
      expect(r0.report.onlineRoundsPerBatch).toBeGreaterThan(0);
    }
  }, 60_000);

  it("runs the opt-in cbnn MSB when the data owner asks for it", async () => {
    const images = randomImages(seededRandom(5), 1, [8, 8, 1]);
    const results = await threeParties(images, 1, 1, { msb: "cbnn" });
    expect(results[0].kind === "report" && results[0].report.msb).toBe("cbnn");
  }, 60_000);

  it("fails before any connection on missing certificates, a bad export, a port in use", async () => {
    const ports = await freePorts(3);
    const cfgFile = writeLocalConfig(join(dir, "cfg-bad.json"), keys, ports);
    const config = loadPartiesConfig(cfgFile);
    const noCert = { ...config, parties: [...config.parties] } as typeof config;
    noCert.parties[2] = { ...noCert.parties[2], cert: join(dir, "nope.crt") };
    await expect(runParty({ party: 2, config: noCert })).rejects.toThrow(
      /parties\[2\]\.cert file .*nope\.crt not found/,
    );
    await expect(runParty({ party: 1, config, exportDir: join(dir, "missing") })).rejects.toThrow(
      /model\.json/,
    );
    const { createServer } = await import("node:net");
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(ports[0], "127.0.0.1", () => r()));
    try {
      await expect(
        runParty({ party: 0, config, input: { raw: { images: new Uint8Array(64), count: 1 } } }),
      ).rejects.toThrow(
        /P0 \(data owner\): cannot listen on 127\.0\.0\.1:\d+: port already in use/,
      );
    } finally {
      blocker.close();
    }
  });
});

describe("secure-eval: three party processes", () => {
  it("classifies image files and matches evaluateFixed", async () => {
    const files: string[] = [];
    const rand = seededRandom(11);
    for (let k = 0; k < 2; k++) {
      const f = join(dir, `img${k}.png`);
      writePng(f, 8, 8, randomImages(rand, 1, [8, 8, 1]));
      files.push(f);
    }
    const report = await runLocalEval({ exportDir, image: files, timeoutMs: 20_000 });
    const imgs = new Uint8Array(128);
    for (let k = 0; k < 2; k++) {
      imgs.set(await loadImageForModel(files[k], { shape: model.input.shape }), 64 * k);
    }
    expect(report.logits).toEqual(Array.from(evaluateFixed(model, weights, imgs, 2)));
    expect(report.predictedClasses).toHaveLength(2);
    expect(report.predictedClasses![0]).toBe(model.classes[report.predictions[0]]);
  }, 60_000);

  it("killing a party mid-run stops the others within the timeout, naming the peer and step", async () => {
    const files: string[] = [];
    const rand = seededRandom(12);
    for (let k = 0; k < 4; k++) {
      const f = join(dir, `kill${k}.png`);
      writePng(f, 8, 8, randomImages(rand, 1, [8, 8, 1]));
      files.push(f);
    }
    let children: ChildProcess[] = [];
    let killedAt = 0;
    const t = runLocalEval({
      exportDir,
      image: files,
      net: "wan", // slow enough (80 ms per round) to be caught mid-run
      timeoutMs: 15_000,
      onStarted: (c) => {
        children = c;
      },
      onProgress: (done) => {
        if (done === 1 && killedAt === 0) {
          killedAt = Date.now();
          children[2].kill("SIGKILL");
        }
      },
    });
    const err = await t.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LocalEvalError);
    const le = err as LocalEvalError;
    expect(killedAt).toBeGreaterThan(0);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    for (const p of le.parties) expect(p.code).not.toBe(0);
    expect(le.parties[0].error).toMatch(/P2 \(helper\).*step "batch \d\/4/);
    expect(le.parties[1].error).toMatch(/P2 \(helper\)/);
  }, 90_000);
});
