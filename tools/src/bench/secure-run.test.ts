import type { EvalReport, PartyCost, PhaseStats } from "@cbnn/inference";
import { describe, expect, it } from "vitest";
import { plan } from "./models";
import { type SecureRunSpec, summarise } from "./secure-run";

function phase(bytesSent: number, rounds: number): PhaseStats {
  const link = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 };
  return {
    links: [link, link, link],
    rounds,
    bytesSent,
    bytesReceived: 0,
    messagesSent: 0,
    messagesReceived: 0,
  };
}

function party(p: 0 | 1 | 2, online: number, offline: number, model: number): PartyCost {
  return {
    party: p,
    name: `P${p}`,
    setup: phase(offline + model + 100, 10),
    online: phase(online, 9 * 4),
    modelSetup: phase(model, 1),
    offline: phase(offline, 4 * 4),
    setupMs: 1,
    onlineMs: 1,
    offlineMs: 1,
    refused: 0,
  };
}

/** A data owner's report of 4 batches of 1 image under WAN (cbnn-like: 9 online + 4 offline rounds). */
function report(extra: Partial<EvalReport> = {}): EvalReport {
  return {
    model: "m",
    msb: "cbnn",
    net: "wan",
    latencyMs: 80,
    bandwidthMBps: 40,
    count: 4,
    batch: 1,
    batches: 4,
    predictions: [1, 2, 3, 4],
    labels: [1, 2, 3, 5],
    accuracy: 0.75,
    predictedClasses: null,
    imageFiles: null,
    logits: [],
    classes: [],
    totalMs: 4400,
    onlineMsPerImage: 750,
    onlineRounds: 36,
    setupRounds: 20,
    onlineRoundsPerBatch: 9,
    offlineRoundsPerBatch: 4,
    // the first batch (warm-up) is slow and left out
    batchOfflineMs: [900, 330, 340, 350],
    batchOnlineMs: [900, 740, 750, 760],
    parties: [party(0, 4000, 8000, 0), party(1, 3000, 4000, 473_000), party(2, 2000, 0, 0)],
    ...extra,
  };
}

const spec: SecureRunSpec = {
  exportDir: "x",
  dataset: "mnist",
  net: "wan",
  msb: "cbnn",
  batch: 1,
  limit: 4,
};

describe("summarise", () => {
  it("times a call as offline + online at the data owner, first batch left out", () => {
    const s = summarise(spec, report(), []);
    expect(s.perBatch).toEqual({ medianMs: 1090, minMs: 1070, maxMs: 1110, repeats: 3 });
    expect(s.perBatchOnline?.medianMs).toBe(750);
    expect(s.perBatchOffline?.medianMs).toBe(340);
  });
  it("splits bytes into model setup (once), offline per image and online per image", () => {
    const s = summarise(spec, report(), []);
    expect(s.modelSetupMB).toBeCloseTo(0.473, 9);
    expect(s.offlineMBPerImage).toBeCloseTo(12_000 / 4 / 1e6, 12);
    expect(s.onlineMBPerImage).toBeCloseTo(9000 / 4 / 1e6, 12);
    // busiest party per call: P0, (4000 + 8000) / 4 batches
    expect(s.maxPartyBytesPerBatch).toBe(3000);
    expect(s.maxPartyOnlineBytesPerBatch).toBe(1000);
  });
  it("bounds a call by its online and offline rounds", () => {
    const s = summarise(spec, report(), []);
    expect(s.offlineRoundsPerBatch).toBe(4);
    expect(s.bound!.rounds).toBe(13);
    expect(s.bound!.ms).toBeCloseTo(13 * 80 + (3000 / 80e6) * 1000, 9);
    expect(s.bound!.ratio).toBeCloseTo(1090 / s.bound!.ms, 9);
    expect(summarise({ ...spec, net: "none" }, report(), []).bound).toBeNull();
  });
  it("falls back to the batch-done gaps for a report without per-batch steps", () => {
    const r = report({
      batchOfflineMs: undefined,
      batchOnlineMs: undefined,
      offlineRoundsPerBatch: undefined,
    });
    const s = summarise(spec, r, [0, 1000, 2100, 3300]);
    expect(s.perBatch?.medianMs).toBe(1100);
    expect(s.perBatchOnline).toBeNull();
    expect(s.offlineRoundsPerBatch).toBeNull();
    expect(s.bound!.rounds).toBe(9);
  });
});

describe("plan", () => {
  it("runs MNIST on the full test set and CIFAR-10 on the first --cifar-limit images", () => {
    expect(plan("mnist", false).accuracyImages).toBeUndefined();
    expect(plan("mnist", true).accuracyImages).toBe(200);
    expect(plan("cifar10", false).accuracyImages).toBe(1000);
    expect(plan("cifar10", false, 10_000).accuracyImages).toBe(10_000);
    expect(plan("cifar10", true, 10_000).accuracyImages).toBe(20);
    expect(plan("cifar10", true, 5).accuracyImages).toBe(5);
  });
});
