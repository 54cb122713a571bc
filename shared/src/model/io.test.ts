import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../export/exporter";
import { randomConvSignNet, randomImages, seededRandom } from "../export/random-model";
import { ExportFormatError } from "./errors";
import { decodeWeights, encodeWeights, loadExport, saveExport } from "./io";
import type { ModelExport } from "./types";

let dir: string;
let good: { model: ModelExport; weights: Int32Array };
let jsonText: string;
let blob: Buffer;

beforeAll(async () => {
  const fm = randomConvSignNet(2);
  const images = randomImages(seededRandom(1), 10, fm.input.shape);
  good = exportModel(fm, { source: { checkpoint: "t" }, calibration: { images, count: 10 } });
  dir = await mkdtemp(join(tmpdir(), "cbnn-io-"));
  await saveExport(join(dir, "good"), good.model, good.weights);
  jsonText = await readFile(join(dir, "good", "model.json"), "utf8");
  blob = await readFile(join(dir, "good", "weights.bin"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function variant(
  edit: (m: Record<string, unknown> & ModelExport) => void,
  blobEdit?: (b: Buffer) => Buffer,
  rawJson?: string,
): Promise<string> {
  const d = join(dir, `v${n++}`);
  await saveExport(d, good.model, good.weights);
  const m = JSON.parse(jsonText);
  edit(m);
  await writeFile(join(d, "model.json"), rawJson ?? JSON.stringify(m));
  await writeFile(join(d, "weights.bin"), blobEdit ? blobEdit(Buffer.from(blob)) : blob);
  return d;
}

async function rejects(d: string, pattern: RegExp): Promise<void> {
  const err = await loadExport(d).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExportFormatError);
  expect((err as Error).message).toMatch(pattern);
}

describe("loadExport", () => {
  it("loads a good export", async () => {
    const l = await loadExport(join(dir, "good"));
    expect(l.model).toEqual(good.model);
    expect(l.weights).toEqual(good.weights);
  });

  it("weights codec is little-endian", () => {
    const b = encodeWeights(new Int32Array([1, -2]));
    expect(Array.from(b)).toEqual([1, 0, 0, 0, 254, 255, 255, 255]);
    expect(Array.from(decodeWeights(b))).toEqual([1, -2]);
  });

  it("a directory without model.json: the error points at its export/ or says it is a checkpoint", async () => {
    const parent = join(dir, "ckpt-with-export");
    await saveExport(join(parent, "export"), good.model, good.weights);
    await expect(loadExport(parent)).rejects.toThrow(
      `cannot read: ENOENT: no such file or directory, open '${join(parent, "model.json")}'; did you mean ${join(parent, "export")}?`,
    );
    const ckpt = join(dir, "ckpt-only");
    await mkdir(ckpt);
    await writeFile(join(ckpt, "latest.json"), "{}");
    await expect(loadExport(ckpt)).rejects.toThrow(
      `${ckpt} is a training checkpoint, not an export: make one with pnpm export --checkpoint ${ckpt}`,
    );
    // the model.json file itself: the error names its directory
    const file = join(parent, "export", "model.json");
    await expect(loadExport(file)).rejects.toThrow(
      `${file} is a file: give the export's directory (${join(parent, "export")})`,
    );
    const tfjsCkpt = join(dir, "tfjs-ckpt");
    await mkdir(tfjsCkpt);
    await writeFile(join(tfjsCkpt, "model.json"), JSON.stringify({ modelTopology: {} }));
    await expect(loadExport(tfjsCkpt)).rejects.toThrow(
      /is a tfjs training checkpoint \(modelTopology\), not a fixed-point export: make one with pnpm export --checkpoint/,
    );
    const empty = join(dir, "empty");
    await mkdir(empty);
    await expect(loadExport(empty)).rejects.toThrow(/cannot read: ENOENT[^;]*$/);
  });

  it("rejects bad JSON", async () => {
    await rejects(
      await variant(() => {}, undefined, "{ not json"),
      /model\.json: is not valid JSON/,
    );
  });

  it("rejects a newer format version, an unknown version and a foreign format", async () => {
    await rejects(
      await variant((m) => Object.assign(m, { version: 2 })),
      /version: is 2: this export was made by a newer cbnn/,
    );
    await rejects(
      await variant((m) => Object.assign(m, { version: "1" })),
      /version: unknown format version "1"/,
    );
    await rejects(await variant((m) => Object.assign(m, { format: "onnx" })), /format: is "onnx"/);
  });

  it("rejects schema violations naming the field", async () => {
    await rejects(
      await variant((m) => Object.assign(m.layers[0], { kind: "conv3d" })),
      /layers\[0\]\.kind: is not a known layer kind/,
    );
    await rejects(
      await variant((m) => {
        delete (m.layers[1] as unknown as Record<string, unknown>).outShape;
      }),
      /layers\[1\]\.outShape: must have required property/,
    );
    await rejects(
      await variant((m) => Object.assign(m.layers[3], { extra: 1 })),
      /layers\[3\]\.extra: is not a known field/,
    );
    await rejects(await variant((m) => Object.assign(m, { ringBits: 64 })), /ringBits: must be 32/);
    await rejects(
      await variant((m) => Object.assign(m.layers[2], { mode: "avg" })),
      /layers\[2\]\.mode: must be one of/,
    );
    await rejects(
      await variant((m) => Object.assign(m.blob, { sha256: "xyz" })),
      /blob\.sha256: must match pattern/,
    );
  });

  it("rejects a blob whose sha256 does not match", async () => {
    await rejects(
      await variant(
        () => {},
        (b) => {
          b[7] ^= 1;
          return b;
        },
      ),
      /weights\.bin: sha256 [0-9a-f]+ does not match .*blob\.sha256/,
    );
  });

  it("rejects a truncated blob", async () => {
    await rejects(
      await variant(
        () => {},
        (b) => b.subarray(0, b.length - 8),
      ),
      /weights\.bin: is \d+ bytes but .*blob\.bytes says \d+ \(truncated\)/,
    );
  });

  it("rejects tensor refs out of bounds", async () => {
    await rejects(
      await variant((m) => {
        const l = m.layers[0];
        if ("weights" in l) l.weights.offset = good.weights.length;
      }),
      /layers\[0\]\.weights\.offset: \d+ \+ length \d+ is beyond the blob/,
    );
    await rejects(
      await variant((m) => {
        const l = m.layers[9];
        if ("bias" in l) l.bias.length += 1;
      }),
      /layers\[9\]\.bias\.length/,
    );
  });

  it("rejects shapes that do not chain", async () => {
    await rejects(
      await variant((m) => {
        m.layers[3].inShape = [4, 4, 8];
      }),
      /layers\[3\]\.inShape: is \[4, 4, 8\] but the previous layer's output is \[5, 5, 8\]/,
    );
    await rejects(
      await variant((m) => {
        m.layers[0].outShape = [9, 10, 8];
        m.layers[1].inShape = [9, 10, 8];
      }),
      /layers\[0\]\.outShape: is \[9, 10, 8\], expected \[10, 10, 8\]/,
    );
    await rejects(
      await variant((m) => {
        m.classes = m.classes.slice(0, 9);
      }),
      /layers\[9\]\.outShape.*expected \[1, 1, 9\]/,
    );
  });

  it("rejects domains and fractional bits that do not chain", async () => {
    await rejects(
      await variant((m) => {
        m.layers[3].inDomain = "int";
      }),
      /layers\[3\]\.inDomain: is "int" but the previous layer's output is "bits"/,
    );
    await rejects(
      await variant((m) => {
        m.layers[1].outDomain = "int";
      }),
      /layers\[1\]\.outDomain: is "int", expected "bits"/,
    );
    await rejects(
      await variant((m) => {
        m.layers[3].outFracBits += 1;
      }),
      /layers\[3\]\.outFracBits/,
    );
  });

  it("saveExport refuses an invalid model", async () => {
    const bad = structuredClone(good.model);
    bad.layers[3].inShape = [1, 2, 3];
    await expect(saveExport(join(dir, "bad"), bad, good.weights)).rejects.toThrow(
      /layers\[3\]\.inShape/,
    );
  });
});
