import {
  evaluateFixed,
  exportModel,
  randomConvSignNet,
  randomDenseSignNet,
  randomImages,
  randomReluNet,
  seededRandom,
  withOutBounds,
} from "@cbnn/shared";
import { describe, expect, it } from "vitest";
import { mnistNet1Random } from "../bench/protocols";
import { secureMsbCost } from "../protocols/msb-secure";
import { makeParties, runSecureLocal } from "../testing/harness";
import { prepareBatch, runBatch, setupSecureModel } from "./runner";

function argmax(v: Int32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (v[row * classes + c] > v[row * classes + best]) best = c;
  return best;
}

describe("runSecureInference", () => {
  it("dense Sign net: equals the reference evaluator bit for bit (secure and cbnn MSB)", async () => {
    for (const presignBits of [undefined, 16]) {
      const { model, weights } = exportModel(randomDenseSignNet(1), {
        source: { checkpoint: "test" },
        presignBits,
      });
      const count = 6;
      const images = randomImages(seededRandom(2), count, model.input.shape);
      images.fill(0, 0, 64); // an all-black image
      images.fill(255, 64, 128); // an all-white one
      const ref = evaluateFixed(model, weights, images, count);
      // the MSBs are sized by the export's proven bounds (<= 28 bits by default)
      const bounds = model.layers.map((l) => ("weights" in l ? l.outBoundBits : undefined));
      expect(bounds.filter((b) => b !== undefined).length).toBe(3);
      for (const b of bounds) if (b !== undefined) expect(b).toBeLessThanOrEqual(presignBits ?? 28);
      for (const msb of ["secure", "cbnn"] as const) {
        const res = await runSecureLocal(model, weights, images, count, { msb });
        expect(res[1].logits).toBeNull();
        expect(res[2].logits).toBeNull();
        expect(Array.from(res[0].logits!)).toEqual(Array.from(ref));
      }
    }
  });

  it("cbnn MSB: refused where no proven bound fits it, with the reason", async () => {
    const { model, weights } = exportModel(randomDenseSignNet(1), {
      source: { checkpoint: "test" },
      presignBits: null,
    });
    const images = randomImages(seededRandom(2), 1, model.input.shape);
    await expect(runSecureLocal(model, weights, images, 1, { msb: "cbnn" })).rejects.toThrow(
      /layer sign1: layer fc1: outBoundBits = (29|30) is too large for a correct cbnn MSB \(at most 28 bits\)/,
    );
    const r = seededRandom(5);
    const fm = randomReluNet(6);
    const relu = exportModel(fm, {
      source: { checkpoint: "test" },
      calibration: { images: randomImages(r, 16, fm.input.shape), count: 16 },
    });
    await expect(
      runSecureLocal(relu.model, relu.weights, randomImages(r, 1, fm.input.shape), 1, {
        msb: "cbnn",
      }),
    ).rejects.toThrow(/needs a proven input bound and the export records none/);
    // a bound the weights do not satisfy is refused by the model owner
    const bad = structuredClone(model);
    const fc1 = bad.layers[0];
    if ("weights" in fc1) fc1.outBoundBits = 4;
    await expect(runSecureLocal(bad, weights, images, 1)).rejects.toThrow(
      /layers\[0\]\.outBoundBits: is 4/,
    );
  });

  it("conv Sign net (separable convs, padding, maxpool OR and sum-sign): bit for bit", async () => {
    const r = seededRandom(4);
    const calib = randomImages(r, 8, [10, 10, 3]);
    const { model, weights } = exportModel(randomConvSignNet(3), {
      source: { checkpoint: "test" },
      calibration: { images: calib, count: 8 },
    });
    expect(model.layers.some((l) => l.kind === "maxpool")).toBe(true);
    const count = 3;
    const images = randomImages(r, count, model.input.shape);
    const ref = evaluateFixed(model, weights, images, count);
    const res = await runSecureLocal(model, weights, images, count);
    expect(Array.from(res[0].logits!)).toEqual(Array.from(ref));
    const res2 = await runSecureLocal(model, weights, images, count, { maxpool: "sum-sign" });
    expect(Array.from(res2[0].logits!)).toEqual(Array.from(ref));
  });

  it("ReLU net with truncation: same argmax as the reference, logits within a few LSB", async () => {
    const r = seededRandom(5);
    const calib = randomImages(r, 16, [8, 8, 2]);
    const { model, weights } = exportModel(randomReluNet(6), {
      source: { checkpoint: "test" },
      calibration: { images: calib, count: 16 },
    });
    expect(model.layers.some((l) => "outShift" in l && l.outShift > 0)).toBe(true);
    const count = 8;
    const images = randomImages(r, count, model.input.shape);
    const ref = evaluateFixed(model, weights, images, count);
    const res = await runSecureLocal(model, weights, images, count);
    const got = res[0].logits!;
    const classes = model.classes.length;
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
    // truncation is at most 1 LSB low per shift; the next layer's weights scale that up
    expect(maxDiff).toBeLessThan(1 << 14);
    // argmax must agree wherever the reference's top-2 gap exceeds the error bound used above
    let checked = 0;
    for (let b = 0; b < count; b++) {
      const row = Array.from(ref.subarray(b * classes, (b + 1) * classes)).sort((p, q) => q - p);
      if (row[0] - row[1] < 2 << 14) continue;
      checked++;
      expect(argmax(got, b, classes)).toBe(argmax(ref, b, classes));
    }
    expect(checked).toBeGreaterThan(count / 2);
    // exact truncation (the carry the fast one drops, added back): bit for bit, so the
    // argmax agrees on every input
    const exact = await runSecureLocal(model, weights, images, count, { truncation: "exact" });
    expect(Array.from(exact[0].logits!)).toEqual(Array.from(ref));
    // (this net has relu, maxpool "max" and three truncations)
    await expect(
      runSecureLocal(model, weights, images, 1, {
        truncation: "bogus" as unknown as "exact",
      }),
    ).rejects.toThrow(/unknown truncation "bogus"/);
  });

  it("round counts, bytes and logits do not depend on when messages arrive", async () => {
    // Random per-message delays (0-3 ms, order per link kept) change which
    // messages are already there when a party asks for them; a protocol whose
    // concurrent branches send after an await would count a different number
    // of rounds under some of them (transport/types.ts, "Rounds").
    const r = seededRandom(31);
    const dense = exportModel(randomDenseSignNet(32), {
      source: { checkpoint: "test" },
      presignBits: 16,
    });
    const conv = exportModel(randomConvSignNet(33), {
      source: { checkpoint: "test" },
      calibration: { images: randomImages(r, 8, [10, 10, 3]), count: 8 },
    });
    const reluNet = randomReluNet(34);
    const relu = exportModel(reluNet, {
      source: { checkpoint: "test" },
      calibration: { images: randomImages(r, 16, reluNet.input.shape), count: 16 },
    });
    const cases = [
      { m: dense, opts: { msb: "secure" as const } },
      { m: dense, opts: { msb: "cbnn" as const } },
      { m: dense, opts: { msb: "cbnn" as const, cbnnOpen: "all" as const } },
      { m: conv, opts: {} },
      { m: conv, opts: { maxpool: "sum-sign" as const } },
      { m: relu, opts: {} },
      { m: relu, opts: { truncation: "exact" as const } },
    ];
    // fast truncation's 1-LSB errors depend on the random shares, so its logits
    // differ from run to run anyway; every other case is exact
    const summary = (res: Awaited<ReturnType<typeof runSecureLocal>>, exact: boolean) => ({
      logits: exact ? Array.from(res[0].logits!) : null,
      rounds: res.map((x) => [x.setup.rounds, x.online.rounds]),
      bytes: res.map((x) => [x.setup.bytesSent, x.online.bytesSent]),
    });
    for (const { m, opts } of cases) {
      const count = 2;
      const images = randomImages(r, count, m.model.input.shape);
      const exact = m !== relu || "truncation" in opts;
      const base = summary(await runSecureLocal(m.model, m.weights, images, count, opts), exact);
      expect(base.rounds[0][1]).toBeGreaterThan(0);
      for (const seed of [1, 2, 3]) {
        const jitter = seededRandom(seed);
        const delayed = await runSecureLocal(m.model, m.weights, images, count, opts, {
          delayMs: () => 3 * jitter(),
        });
        expect(summary(delayed, exact), JSON.stringify(opts)).toEqual(base);
      }
    }
  }, 60_000);

  it("MnistNet1 batch 1: online bytes per party equal the protocols' stated costs", async () => {
    const { model: raw, weights } = mnistNet1Random();
    const model = withOutBounds(raw, weights);
    const [b1, b2] = [0, 2].map((i) => {
      const l = model.layers[i];
      return "weights" in l ? l.outBoundBits! : 0;
    });
    const img = randomImages(seededRandom(8), 1, [28, 28, 1]);
    const ref = evaluateFixed(model, weights, img, 1);
    const w = 4; // ceil(128 / 32) words per plane
    const pixels = 4 * 784;
    const fc3 = 4 * 10;
    const reveal = 4 * 10;
    // secure: fc1/fc2 outputs go to the MSB unreshared (P1 <-> P2 swap, 4 * 128 each);
    // P0 inputs bits+1 planes; the last AND round opens MSB ^ rho (one extra word per party)
    const c1 = secureMsbCost(b1, true);
    const c2 = secureMsbCost(b2, true);
    const sec = await runSecureLocal(model, weights, img, 1, { msb: "secure" });
    expect(Array.from(sec[0].logits!)).toEqual(Array.from(ref));
    expect(sec.map((r) => r.online.bytesSent)).toEqual([
      pixels + 4 * w * (c1.p0 + c2.p0) + fc3,
      2 * 512 + 4 * w * (c1.p12 + c2.p12) + fc3,
      2 * 512 + 4 * w * (c1.p12 + c2.p12) + fc3 + reveal,
    ]);
    // cbnn: fc1/fc2 reshared (4 * 128 each); P0, P1 send u's components to P2 (4 * 128),
    // P2 returns the packed bits to both (2 * 4w)
    const cb = await runSecureLocal(model, weights, img, 1, { msb: "cbnn" });
    expect(Array.from(cb[0].logits!)).toEqual(Array.from(ref));
    expect(cb.map((r) => r.online.bytesSent)).toEqual([
      pixels + 2 * (512 + 512) + fc3,
      2 * (512 + 512) + fc3,
      2 * (512 + 2 * 4 * w) + fc3 + reveal,
    ]);
    // cbnn opened to all (the paper's): each party sends its product share to both others
    const all = await runSecureLocal(model, weights, img, 1, { msb: "cbnn", cbnnOpen: "all" });
    expect(Array.from(all[0].logits!)).toEqual(Array.from(ref));
    expect(all.map((r) => r.online.bytesSent)).toEqual([
      pixels + 2 * (512 + 1024) + fc3,
      2 * (512 + 1024) + fc3,
      2 * (512 + 1024) + fc3 + reveal,
    ]);
  });

  it("setup once, then batches: weights shared once, setup bytes independent of the batch count", async () => {
    const { model, weights } = exportModel(randomDenseSignNet(3), {
      source: { checkpoint: "test" },
    });
    const params = model.layers.reduce(
      (a, l) => a + ("weights" in l ? l.weights.length + l.bias.length : 0),
      0,
    );
    const images = randomImages(seededRandom(9), 5, model.input.shape);
    images.fill(255, 0, 64);
    const ref = Array.from(evaluateFixed(model, weights, images, 5));
    const per = 64;
    const run = async (batches: number[]) => {
      const { ctxs } = makeParties();
      return Promise.all(
        ctxs.map(async (c) => {
          const sm = await setupSecureModel(c, model, c.id === 1 ? weights : undefined, {
            msb: "secure",
          });
          const logits: number[] = [];
          const offline: number[] = [];
          let done = 0;
          for (const n of batches) {
            const prep = await prepareBatch(c, sm, n);
            const res = await runBatch(
              c,
              sm,
              {
                count: n,
                images: c.id === 0 ? images.subarray(done * per, (done + n) * per) : undefined,
              },
              { prep },
            );
            // the material was made beforehand: the batch itself costs nothing offline
            expect(res.offline!.bytesSent).toBe(0);
            offline.push(prep.cost.bytesSent);
            if (res.logits) logits.push(...res.logits);
            done += n;
            await expect(
              runBatch(c, sm, { count: n, images: undefined }, { prep }),
            ).rejects.toThrow(/used twice/);
          }
          return { setup: sm.setup, offline, logits, total: c.transport.stats().setup };
        }),
      );
    };
    const one = await run([5]);
    const three = await run([2, 2, 1]);
    expect(one[0].logits).toEqual(ref);
    expect(three[0].logits).toEqual(ref);
    // model setup: P1 sends one ring element per parameter, once, whatever the batch count
    expect(one.map((r) => r.setup.bytesSent)).toEqual([0, 4 * params, 0]);
    expect(three.map((r) => r.setup.bytesSent)).toEqual(one.map((r) => r.setup.bytesSent));
    expect(three.map((r) => r.setup.rounds)).toEqual(one.map((r) => r.setup.rounds));
    // what remains per batch is the offline material (daBits for sign -> dense), made per image
    for (let p = 0; p < 3; p++) {
      expect(one[p].offline[0]).toBeGreaterThan(0);
      expect(one[p].total.bytesSent).toBe(one[p].setup.bytesSent + one[p].offline[0]);
      const sum = three[p].offline.reduce((a, b) => a + b, 0);
      expect(three[p].total.bytesSent).toBe(three[p].setup.bytesSent + sum);
    }
  });
});
