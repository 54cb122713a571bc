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
  randomReluNet,
  saveExport,
  seededRandom,
} from "@cbnn/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSecureLocal } from "../testing/harness";
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
  extra: {
    msb?: "secure" | "cbnn";
    truncation?: "fast" | "exact";
    cbnnOpen?: "helper" | "all";
    exportDir?: string;
    /** Options given to P1 and P2 (they must agree with P0's). */
    others?: { truncation?: "fast" | "exact" };
  } = {},
): Promise<PartyResult[]> {
  const ports = await freePorts(3);
  const cfgFile = writeLocalConfig(join(dir, `cfg-${ports[0]}.json`), keys, ports, {
    timeoutMs: 20_000,
    connectTimeoutMs: 10_000,
  });
  const config = loadPartiesConfig(cfgFile);
  return Promise.all([
    runParty({
      party: 0,
      config,
      msb: extra.msb,
      truncation: extra.truncation,
      cbnnOpen: extra.cbnnOpen,
      input: { raw: { images, count }, batch },
    }),
    runParty({ party: 1, config, exportDir: extra.exportDir ?? exportDir, ...extra.others }),
    runParty({ party: 2, config, ...extra.others }),
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
      // weights shared once: the model setup of 3 batches equals that of 1 batch
      const one = (await threeParties(images, count, count, { msb }))[0];
      if (one.kind !== "report") return;
      expect(one.report.batches).toBe(1);
      expect(one.report.logits).toEqual(expected);
      const params = model.layers.reduce(
        (a, l) => a + ("weights" in l ? l.weights.length + l.bias.length : 0),
        0,
      );
      const modelBytes = (r: typeof one.report) => r.parties.map((p) => p.modelSetup!.bytesSent);
      expect(modelBytes(one.report)).toEqual([0, 4 * params, 0]);
      expect(modelBytes(r0.report)).toEqual(modelBytes(one.report));
      // the WebSocket transport counts the online rounds the memory transport counts
      const mem = await runSecureLocal(model, weights, images, count, { msb });
      expect(one.report.parties.map((p) => p.online.rounds)).toEqual(
        mem.map((m) => m.online.rounds),
      );
      // the rest of setup (hello, seeds) is the same too, but for the data owner's plan,
      // which lists the batch sizes ("[5]" vs "[2,2,1]", sent to P1 and P2);
      // the offline material is made per batch, in proportion to the images
      for (let p = 0; p < 3; p++) {
        const [a, b] = [one.report.parties[p], r0.report.parties[p]];
        const plan = p === 0 ? 2 * ("[2,2,1]".length - "[5]".length) : 0;
        expect(b.setup.bytesSent - b.offline!.bytesSent).toBe(
          a.setup.bytesSent - a.offline!.bytesSent + plan,
        );
        expect(a.offline!.bytesSent).toBeGreaterThan(0);
      }
    }
  }, 60_000);

  it("ReLU net: --truncation exact gives evaluateFixed's logits; the others must agree", async () => {
    const r = seededRandom(21);
    const fm = randomReluNet(22);
    const relu = exportModel(fm, {
      source: { checkpoint: "test" },
      calibration: { images: randomImages(r, 16, fm.input.shape), count: 16 },
    });
    const reluDir = join(dir, "export-relu");
    await saveExport(reluDir, relu.model, relu.weights);
    const count = 4;
    const images = randomImages(r, count, fm.input.shape);
    const results = await threeParties(images, count, 2, {
      truncation: "exact",
      exportDir: reluDir,
      others: { truncation: "exact" },
    });
    const r0 = results[0];
    if (r0.kind !== "report") throw new Error("expected a report");
    expect(r0.report.truncation).toBe("exact");
    expect(r0.report.logits).toEqual(
      Array.from(evaluateFixed(relu.model, relu.weights, images, count)),
    );
    // a helper started with another truncation refuses to run, and everyone stops
    await expect(
      threeParties(images, count, 2, {
        exportDir: reluDir,
        others: { truncation: "exact" },
      }),
    ).rejects.toThrow(/--truncation/);
  }, 60_000);

  it("runs the opt-in cbnn MSB when the data owner asks for it", async () => {
    const images = randomImages(seededRandom(5), 1, [8, 8, 1]);
    const expected = Array.from(evaluateFixed(model, weights, images, 1));
    for (const cbnnOpen of ["helper", "all"] as const) {
      const results = await threeParties(images, 1, 1, { msb: "cbnn", cbnnOpen });
      const r0 = results[0];
      if (r0.kind !== "report") throw new Error("expected a report");
      expect(r0.report.msb).toBe("cbnn");
      expect(r0.report.cbnnOpen).toBe(cbnnOpen);
      expect(r0.report.logits).toEqual(expected);
    }
    await expect(
      runParty({
        party: 0,
        config: loadPartiesConfig(writeLocalConfig(join(dir, "cfg-open.json"), keys, [1, 2, 3])),
        cbnnOpen: "all",
        input: { raw: { images, count: 1 } },
      }),
    ).rejects.toThrow(/--cbnn-open applies to --msb cbnn only/);
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

  it("refuses bad input before starting any process, naming the file", async () => {
    const t0 = Date.now();
    await expect(
      runLocalEval({ exportDir, image: [join(dir, "no-such.png")], timeoutMs: 20_000 }),
    ).rejects.toThrow(/no-such\.png: image file not found/);
    const junk = join(dir, "junk.png");
    writeFileSync(junk, "not an image");
    await expect(runLocalEval({ exportDir, image: [junk] })).rejects.toThrow(
      /junk\.png: cannot read image/,
    );
    await expect(
      runLocalEval({ exportDir, image: [junk], msb: "secure", cbnnOpen: "all" }),
    ).rejects.toThrow(/--cbnn-open applies to --msb cbnn only/);
    // no party was started, so nobody waited for a connect timeout
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

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
