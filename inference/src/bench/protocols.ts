import type { Layer, ModelExport } from "@cbnn/shared";
import { b2a } from "../protocols/b2a";
import { bitMul } from "../protocols/bit-mul";
import { shareInput, shareInputB } from "../protocols/input";
import { cbnnMsb } from "../protocols/msb-cbnn";
import { secureMsb } from "../protocols/msb-secure";
import { mulA } from "../protocols/mul";
import { truncate } from "../protocols/truncate";
import { packBits } from "../ring/bits";
import { makeParties, runCosted, runSecureLocal } from "../testing/harness";

/** MnistNet1 (784-128-128-10, Sign) with random weights, as an export (weights as int32). */
export function mnistNet1Random(): { model: ModelExport; weights: Int32Array } {
  const dims = [784, 128, 128, 10];
  const layers: Layer[] = [];
  let off = 0;
  const parts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const [a, b] = [dims[i], dims[i + 1]];
    const w = { offset: off, length: a * b, shape: [a, b], fracBits: 0 };
    off += a * b;
    const bias = { offset: off, length: b, shape: [b], fracBits: 0 };
    off += b;
    for (let k = 0; k < a * b + b; k++) parts.push(Math.floor(Math.random() * 64) - 32);
    layers.push({
      kind: "dense",
      name: `fc${i + 1}`,
      inShape: i === 0 ? [28, 28, 1] : [1, 1, a],
      outShape: [1, 1, b],
      inDomain: i === 0 ? "int" : "bits",
      outDomain: "int",
      outFracBits: 0,
      weights: w,
      bias,
      outShift: 0,
    });
    if (i < 2)
      layers.push({
        kind: "sign",
        name: `sign${i + 1}`,
        inShape: [1, 1, b],
        outShape: [1, 1, b],
        inDomain: "int",
        outDomain: "bits",
        outFracBits: 0,
      });
  }
  const model = {
    format: "cbnn-export",
    version: 1,
    name: "MnistNet1-random",
    ringBits: 32,
    input: { shape: [28, 28, 1], encoding: "uint8", dataset: "mnist" },
    classes: Array.from({ length: 10 }, (_, i) => String(i)),
    layers,
    blob: { file: "weights.bin", bytes: off * 4, sha256: "" },
    source: {
      checkpoint: "random",
      dataset: "mnist",
      normalisation: { mean: [0], std: [1] },
      createdAt: "",
    },
  } as ModelExport;
  return { model, weights: Int32Array.from(parts) };
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[s.length >> 1].toFixed(1)} ms (min ${s[0].toFixed(1)}, max ${s[s.length - 1].toFixed(1)})`;
}

/** Prints per-protocol time, rounds and bytes (as counted by the memory transport). */
export async function benchProtocols(opts: { quick: boolean }): Promise<void> {
  const n = opts.quick ? 10_000 : 100_000;
  const repeats = opts.quick ? 3 : 5;
  const { ctxs } = makeParties();
  const x = new Uint32Array(n).map(() => (Math.random() * 2 ** 24) | 0);
  const sx = await Promise.all(ctxs.map((c) => shareInput(c, 0, c.id === 0 ? x : null, n)));
  const bits = packBits(Array.from({ length: n }, () => (Math.random() < 0.5 ? 1 : 0)));
  const sb = await Promise.all(ctxs.map((c) => shareInputB(c, 0, c.id === 0 ? bits : null, n)));
  const cb = cbnnMsb(24);
  const cases: [string, (i: number) => Promise<unknown>][] = [
    ["shareInput", (i) => shareInput(ctxs[i], 0, i === 0 ? x : null, n)],
    ["mulA", (i) => mulA(ctxs[i], sx[i], sx[i])],
    ["b2a", (i) => b2a(ctxs[i], sb[i])],
    ["bitMul", (i) => bitMul(ctxs[i], sb[i], sx[i])],
    ["truncate", (i) => truncate(ctxs[i], sx[i], 12)],
    ["msb secure", (i) => secureMsb.extract(ctxs[i], sx[i])],
    ["msb cbnn (online+prep)", (i) => cb.extract(ctxs[i], sx[i])],
  ];
  console.log(`protocols on ${n} values, memory transport, ${repeats} repeats`);
  for (const [name, f] of cases) {
    const times: number[] = [];
    let last = null;
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      last = await runCosted(ctxs, (c) => f(c.id) as Promise<unknown>);
      times.push(performance.now() - t0);
    }
    const bytes = last!.cost.map((s) => s.bytesSent);
    console.log(
      `${name.padEnd(24)} ${stats(times)}  rounds ${last!.rounds}  bytes sent P0/P1/P2 ${bytes.join("/")}`,
    );
  }
  const { model, weights } = mnistNet1Random();
  const img = new Uint8Array(784).map(() => (Math.random() * 256) | 0);
  for (const msb of ["secure", "cbnn"] as const) {
    const res = await runSecureLocal(model, weights, img, 1, { msb, cbnnInputBits: 24 });
    const online = res.reduce((s, r) => s + r.online.bytesSent, 0);
    const setup = res.reduce((s, r) => s + r.setup.bytesSent, 0);
    const rounds = Math.max(...res.map((r) => r.online.rounds));
    console.log(
      `MnistNet1 batch 1, ${msb} MSB: online ${rounds} rounds, ${(online / 1000).toFixed(2)} KB (all parties); setup ${(setup / 1000).toFixed(1)} KB`,
    );
  }
}
