import type { TrainRunJson } from "@cbnn/training";
import { describe, expect, it } from "vitest";
import { type ModelCard, withTeacherCheckpoint } from "../model-cards";
import type { Figure } from "./figures";
import type { ModelsResults, SecureRow } from "./models";
import type { ProtocolsResults } from "./protocols";
import { pointsChange, renderReport, trainedModelsNote } from "./report";
import type { ResultsFile } from "./results";
import { lowerBoundMs } from "./secure-run";

const header = (suite: string, quick: boolean) => ({
  suite,
  date: "2026-01-01T00:00:00.000Z",
  machine: {
    cpus: 2,
    cpuModel: "Test CPU",
    loadavg1: 0.5,
    memGB: 8,
    node: "v20",
    platform: "linux-x64",
  },
  git: { commit: "abc1234", dirty: true },
  quick,
  durationS: 12,
});

const t = (m: number) => ({ medianMs: m, minMs: m - 1, maxMs: m + 1, repeats: 3 });

function row(
  model: string,
  kind: SecureRow["kind"],
  net: "lan" | "wan",
  msb: "secure" | "cbnn",
  medianMs: number,
): SecureRow {
  return {
    model,
    kind,
    net,
    msb,
    batch: kind === "batch1" ? 1 : 100,
    limit: 4,
    result: {
      net,
      msb,
      batch: 1,
      count: kind === "accuracy" ? 200 : 4,
      batches: 4,
      perBatch: t(medianMs),
      perBatchOnline: t(medianMs - 2),
      perBatchOffline: t(2),
      onlineMsPerImage: medianMs,
      totalMs: 4 * medianMs,
      imagesPerSec: 1000 / medianMs,
      roundsPerBatch: 18,
      offlineRoundsPerBatch: msb === "cbnn" ? 4 : 0,
      setupRounds: 3,
      onlineMBPerImage: 0.0129,
      offlineMBPerImage: 0.0061,
      modelSetupMB: 0.473,
      maxPartyOnlineBytesPerBatch: 6000,
      maxPartyBytesPerBatch: 8000,
      accuracy: kind === "accuracy" ? 0.975 : null,
      bound: { ms: 3.6, rounds: 18, ratio: medianMs / 3.6, formula: "" },
    },
    matchesFixed: kind === "accuracy" ? true : null,
    error: null,
  };
}

const models: ModelsResults = {
  quick: true,
  durationS: 12,
  cifarLimit: 1000,
  tfBackend: "wasm",
  models: [
    {
      name: "mnistnet1",
      dataset: "mnist",
      weights: "trained",
      label: "trained",
      params: 119050,
      gap: null,
    },
    {
      name: "cifarnet2",
      dataset: "cifar10",
      weights: "random",
      label: "random weights (cost only)",
      params: 67914,
      gap: "no trained export",
    },
  ],
  secure: [
    row("mnistnet1", "batch1", "lan", "secure", 31.1),
    row("mnistnet1", "batch1", "wan", "secure", 1517.8),
    row("mnistnet1", "accuracy", "lan", "secure", 145),
    {
      ...row("mnistnet1", "batch1", "lan", "cbnn", 10),
      result: null,
      error: "cbnn refused: bound unknown",
    },
  ],
  plain: [
    {
      model: "mnistnet1",
      fixedBatch1: t(0.1),
      floatBatch1: t(1.3),
      batch: 100,
      fixedBatch: t(5),
      floatBatch: t(8),
      fixedAcc: 0.975,
      floatAcc: 0.976,
      count: 200,
    },
  ],
};

const figures: Figure[] = [
  {
    id: "fig6a",
    title: "Accuracy vs lambda",
    png: "bench/figures/fig6a.png",
    sources: ["runs/sweep/sweep.json"],
    note: "3 lambda values",
  },
  { id: "fig5a", title: "KD vs no KD (mnist)", png: null, sources: [], note: "no pair of runs" },
];

describe("renderReport", () => {
  const md = renderReport({
    results: { models: { ...header("models", true), ...models } as unknown as ResultsFile },
    figures,
  });

  it("states machine, commit and the quick flag", () => {
    expect(md).toContain("2 x Test CPU");
    expect(md).toContain("commit abc1234 (dirty)");
    expect(md).toContain("**Smoke-run numbers:** models ran with `--quick`");
  });
  it("puts our measured rows beside the paper's Table 1 rows", () => {
    expect(md).toMatch(
      /\| MnistNet1 \| ours, secure MSB \(default\) \| trained \| 0\.031 \[0\.030-0\.032\] \| 0\.029 \+ 0\.002 \| 0\.004 \(x8\.64\) \| 1\.518 \[1\.517-1\.519\] \| 1\.516 \+ 0\.002 \|/,
    );
    // online, offline per image, model setup once, rounds online + offline
    expect(md).toMatch(
      /\| 0\.0129 \| 0\.0061 \| 0\.473 \| 18 \+ 0 \| 97\.50 on 200 \(= fixed point\) \|/,
    );
    expect(md).toContain(
      "| MnistNet1 | paper: CBNN |  | 0.010 |  |  | 0.210 |  |  | 0.010 |  |  |  | 98.11 |",
    );
    expect(md).toContain("Model setup MB (once per run)");
    expect(md).not.toContain("at every call");
  });
  it("states the CIFAR-10 image limit and how to run the full set", () => {
    expect(md).toContain("a full run uses the first 1000 (--cifar-limit, default 1000)");
    expect(md).toContain("`--cifar-limit 10000`");
    const full = renderReport({
      results: {
        models: {
          ...header("models", false),
          ...models,
          quick: false,
          cifarLimit: 250,
        } as unknown as ResultsFile,
      },
      figures,
    });
    expect(full).toContain("the first 250 test images (`--cifar-limit 250`)");
  });
  it("renders the structured protocol rows", () => {
    const prot: ProtocolsResults = {
      quick: true,
      durationS: 3,
      protocols: {
        quick: true,
        n: 64,
        repeats: 2,
        protocols: [
          {
            protocol: "mulA",
            n: 64,
            repeats: 2,
            medianMs: 1.25,
            minMs: 1,
            maxMs: 2,
            rounds: 1,
            bytesSent: [256, 256, 256],
          },
        ],
        mnistNet1: {
          outBoundBits: ["fc1 22", "fc2 12", "fc3 13"],
          rows: [
            {
              variant: "secure MSB",
              msb: "secure",
              bounds: true,
              onlineRounds: 18,
              onlineBytes: [4000, 3000, 2740],
              modelSetupBytes: [0, 473000, 0],
              offlineBytes: [6100, 0, 0],
            },
          ],
        },
      },
      gemm: { quick: true, kernel: "js", node: "v20", cases: [] },
      shaping: [],
    };
    const out = renderReport({
      results: { protocols: { ...header("protocols", true), ...prot } as unknown as ResultsFile },
      figures,
    });
    expect(out).toContain("| mulA | 64 | 1.3 [1.0-2.0] | 1 | 256 / 256 / 256 |");
    expect(out).toContain(
      "| secure MSB | 18 | 9.74 (4000 / 3000 / 2740) | 473.00 | 6.10 (6100 / 0 / 0) |",
    );
    expect(out).toContain("proven outBoundBits fc1 22, fc2 12, fc3 13");
  });
  it("labels a no-KD twin standing in for a missing KD student", () => {
    const twin = renderReport({
      results: {
        models: {
          ...header("models", true),
          ...models,
          models: [
            models.models[0],
            {
              ...models.models[1],
              weights: "trained",
              label: "trained without KD (checkpoints/cifarnet2-orinet)",
              gap: null,
            },
          ],
        } as unknown as ResultsFile,
      },
      figures,
    });
    expect(twin).toContain("| ours: CifarNet2 (separable) | trained without KD (OriNet) |");
    expect(twin).not.toContain("**Random weights (cost only):** CifarNet2");
  });
  it("adds the ReLU ablations to Tables 2-3 only when they were benchmarked", () => {
    expect(md).not.toContain("ReLU (ablation)");
    const cifar = (name: string, params: number) => ({
      name,
      dataset: "cifar10",
      weights: "trained" as const,
      label: "trained",
      params,
      gap: null,
    });
    const withAblations = renderReport({
      results: {
        models: {
          ...header("models", true),
          ...models,
          models: [
            cifar("cifarnet2-typical", 387322),
            cifar("cifarnet2", 67914),
            cifar("cifarnet2-typical-relu", 387322),
            cifar("cifarnet2-relu", 67914),
            cifar("cifarnet2-relu3", 67914),
            cifar("cifarnet2-typical-relu3", 387322),
          ],
          secure: [
            row("cifarnet2-typical", "batch1", "lan", "secure", 400),
            row("cifarnet2", "batch1", "lan", "secure", 300),
            row("cifarnet2-typical-relu", "batch1", "lan", "secure", 800),
            row("cifarnet2-relu", "batch1", "lan", "secure", 600),
            row("cifarnet2-typical-relu3", "batch1", "lan", "secure", 500),
            row("cifarnet2-relu3", "batch1", "lan", "secure", 450),
          ],
          plain: [],
        } as unknown as ResultsFile,
      },
      figures,
    });
    const t2 = withAblations.slice(
      withAblations.indexOf("## Table 2"),
      withAblations.indexOf("## Table 3"),
    );
    const lines = t2.split("\n").filter((l) => l.startsWith("| ours"));
    expect(lines.map((l) => l.split(" | ")[0])).toEqual([
      "| ours: CifarNet2 typical BNN",
      "| ours: CifarNet2 (separable)",
      "| ours: change",
      "| ours: CifarNet2 typical, ReLU (ablation)",
      "| ours: CifarNet2 (separable), ReLU (ablation)",
      "| ours (ReLU): change",
      "| ours: CifarNet2 typical, ReLU after CONV 7-9 (ablation)",
      "| ours: CifarNet2 (separable), ReLU after CONV 7-9 (ablation)",
      "| ours (ReLU after CONV 7-9): change",
    ]);
    // each change row compares its own pair: 400 -> 300 ms and 800 -> 600 ms are both -25%,
    // 500 -> 450 ms is -10%
    expect(lines[2]).toContain("| -25.0% |");
    expect(lines[5]).toContain("| -25.0% |");
    expect(lines[8]).toContain("| -10.0% |");
    const t3 = withAblations.slice(withAblations.indexOf("## Table 3"));
    expect(t3).toContain(
      "| ours: CifarNet2 (separable), ReLU (ablation), secure MSB, trained | 0.600",
    );
    expect(t3).toContain("| ours: CifarNet2 typical, ReLU (ablation), secure MSB, trained | 0.800");
    expect(t3).toContain(
      "| ours: CifarNet2 (separable), ReLU after CONV 7-9 (ablation), secure MSB, trained | 0.450",
    );
  });
  it("leaves out the change row of an ablation pair benchmarked only in part", () => {
    const one = renderReport({
      results: {
        models: {
          ...header("models", true),
          ...models,
          models: [
            {
              name: "cifarnet2-relu3",
              dataset: "cifar10",
              weights: "trained",
              label: "trained",
              params: 67914,
              gap: null,
            },
          ],
          secure: [row("cifarnet2-relu3", "batch1", "lan", "secure", 450)],
          plain: [],
        } as unknown as ResultsFile,
      },
      figures,
    });
    const t2 = one.slice(one.indexOf("## Table 2"), one.indexOf("## Table 3"));
    expect(t2).toContain("| ours: CifarNet2 (separable), ReLU after CONV 7-9 (ablation) |");
    expect(t2).not.toContain("ours (ReLU after CONV 7-9): change");
    expect(t2).not.toContain("CifarNet2 typical, ReLU after CONV 7-9");
  });
  it("marks failed runs, missing models and missing suites as gaps", () => {
    expect(md).toContain("| MnistNet1 | ours, cbnn MSB (opt-in, leaks) | trained | gap: failed |");
    expect(md).toContain("cbnn refused: bound unknown");
    expect(md).toContain("| MnistNet2 | ours | gap: not benchmarked |");
    expect(md).toContain(
      "**Random weights (cost only):** CifarNet2 (separable) (no trained export)",
    );
    expect(md).toContain("**Gap:** no `bench/results/protocols.json`");
    expect(md).toContain("**Gap:** no pair of runs.");
  });
  it("renders smoke runs as their own report, from bench/results-quick, without figures", () => {
    const smoke = renderReport({
      results: { models: { ...header("models", true), ...models } as unknown as ResultsFile },
      figures,
      quick: true,
    });
    expect(smoke).toMatch(/^# Results of smoke runs \(--quick\)\n/);
    expect(smoke).toContain(
      "from `bench/results-quick/*.json` (re-render: `pnpm bench report --quick`)",
    );
    expect(smoke).toContain("the full runs' numbers are in docs/RESULTS.md.");
    expect(smoke).toContain(
      "**Gap:** no `bench/results-quick/protocols.json` (run `pnpm bench protocols --quick`)",
    );
    expect(smoke).not.toContain("![Accuracy vs lambda]");
    expect(smoke).toContain("## Figures\n\nNot rendered for smoke runs");
    // the same tables as the full report: only the frame differs
    expect(smoke).toContain(
      "| MnistNet1 | ours, cbnn MSB (opt-in, leaks) | trained | gap: failed |",
    );
    expect(md).toMatch(/^# Results\n/);
    expect(md).toContain("from `bench/results/*.json` (re-render: `pnpm bench report`)");
  });
  it("computes ratios from the measured numbers (cost of security, paper change)", () => {
    expect(md).toContain(
      "| MnistNet1 | 31.10 [30.10-32.10] | 0.100 [-0.900-1.100] | 1.300 [0.300-2.300] | 311x | 23.9x |",
    );
    expect(md).toContain("| paper: change |  | -41.5% | -72.1% |");
    expect(md).toContain("![Accuracy vs lambda](../bench/figures/fig6a.png)");
  });
});

describe("pointsChange", () => {
  it("signs accuracy differences like the percentage changes", () => {
    expect(pointsChange(0.4)).toBe("+0.40 pts");
    expect(pointsChange(-2.4)).toBe("-2.40 pts");
    expect(pointsChange(0)).toBe("+0.00 pts");
    expect(pointsChange(81.53 - 83.52)).toBe("-1.99 pts");
  });
});

describe("lowerBoundMs", () => {
  it("rounds x latency + busiest party's bytes over two links", () => {
    expect(lowerBoundMs(18, 0, 80, 40e6)).toBe(1440);
    expect(lowerBoundMs(1, 80e6, 0, 40e6)).toBe(1000);
    expect(lowerBoundMs(5, 1e9, 0.2, Number.POSITIVE_INFINITY)).toBeCloseTo(1);
  });
});

describe("trainedModelsNote", () => {
  const card = (over: Partial<ModelCard>): ModelCard => ({
    name: "cifarnet2",
    model: "cifarnet2",
    role: "student",
    dataset: "cifar10",
    width: 1,
    params: 67914,
    kd: { teacher: "vgg16", lambda: 0.1, T: 10, t2Scaling: false },
    epochs: 20,
    bestEpoch: 15,
    trainSeconds: 1,
    backend: "wasm",
    seed: 1,
    floatTestAcc: 0.6136,
    fixedTestAcc: 0.6133,
    argmaxAgreement: 0.995,
    testCount: 10000,
    fracBits: 12,
    command: "pnpm train",
    evaluatedAt: "2026-01-01T00:00:00.000Z",
    ...over,
  });
  const info = (name: string, weights: "trained" | "random") => ({
    name,
    dataset: name.startsWith("cifar") ? "cifar10" : "mnist",
    weights,
    label: weights,
    params: 1,
    gap: null,
  });

  it("states epochs, KD and the gap to the paper's accuracy from each trained model's card", () => {
    const note = trainedModelsNote(
      [info("cifarnet2", "trained"), info("mnistnet1", "trained"), info("mnistnet2", "random")],
      new Map([
        ["cifarnet2", card({})],
        ["mnistnet1", card({ kd: null, epochs: 40, bestEpoch: 39, fixedTestAcc: 0.9821 })],
      ]),
    );
    expect(note).toMatch(
      /CifarNet2 \(separable\): 20 epochs \(best 15\), KD from vgg16 \(lambda 0\.1, T 10\); fixed point 61\.33% on 10000 test images; paper 81\.53% \(-20\.20 pts\)/,
    );
    expect(note).toMatch(
      /MnistNet1: 40 epochs \(best 39\), no KD; fixed point 98\.21% .*paper 98\.11% \(\+0\.10 pts\)/,
    );
    expect(note).not.toMatch(/MnistNet2/);
  });

  it("flags a model whose shipped export is not the one the tables measured", () => {
    const cards = new Map([
      ["cifarnet2", card({})],
      ["mnistnet1", card({ name: "mnistnet1", model: "mnistnet1" })],
    ]);
    const models = [info("cifarnet2", "trained"), info("mnistnet1", "trained")];
    const note = trainedModelsNote(
      models,
      cards,
      new Map([
        ["cifarnet2", { measured: "aaaaaaaaaaaaaaaa", now: "bbbbbbbbbbbbbbbb" }],
        ["mnistnet1", { measured: "cccccccccccccccc", now: "cccccccccccccccc" }],
      ]),
    );
    const lines = note.split("\n");
    const c2 = lines.find((l) => l.startsWith("- CifarNet2"));
    const m1 = lines.find((l) => l.startsWith("- MnistNet1"));
    expect(c2).toMatch(
      /measured an earlier export\*\* \(weights sha256 aaaaaaaaaaaa, now bbbbbbbbbbbb\).*`pnpm bench models`/,
    );
    expect(m1).not.toMatch(/earlier export/);
    // unknown (no git, older results): no claim either way
    const unknown = trainedModelsNote(
      models,
      cards,
      new Map([["cifarnet2", { measured: null, now: "bbbbbbbbbbbbbbbb" }]]),
    );
    expect(unknown).not.toMatch(/earlier export/);
  });

  it("names the teacher checkpoint from run.json, each stage's in order", () => {
    const t = (dir: string) => ({
      model: "vgg16",
      checkpoint: `/repo/checkpoints/${dir}/ckpt-e0014`,
    });
    const kd = { lambda: 0.1, T: 10, t2Scaling: false };
    const first = { teacher: t("vgg16-w0.25"), kd, init: null };
    const second = { teacher: t("vgg16-w0.25-s2"), kd, init: { run: first } };
    const named = withTeacherCheckpoint(card({}), second as unknown as TrainRunJson);
    expect(
      trainedModelsNote([info("cifarnet2", "trained")], new Map([["cifarnet2", named]])),
    ).toMatch(/KD from vgg16-w0\.25, then vgg16-w0\.25-s2 \(lambda 0\.1, T 10\)/);
    // no KD: the card is unchanged
    const plain = card({ kd: null });
    expect(
      withTeacherCheckpoint(plain, {
        teacher: null,
        kd: null,
        init: null,
      } as unknown as TrainRunJson),
    ).toBe(plain);
  });

  it("shows each earlier stage of a continued run's --init chain", () => {
    const chained = card({ epochs: 15, bestEpoch: 13, initEpochs: 32, initStages: [15, 17] });
    const note = trainedModelsNote(
      [info("cifarnet2", "trained")],
      new Map([["cifarnet2", chained]]),
    );
    expect(note).toMatch(/CifarNet2 \(separable\): 15 \+ 17 \+ 15 epochs \(best 15 \+ 17 \+ 13\)/);
    // a card from before initStages shows the earlier stages' sum
    const old = card({ epochs: 15, bestEpoch: 13, initEpochs: 32 });
    expect(
      trainedModelsNote([info("cifarnet2", "trained")], new Map([["cifarnet2", old]])),
    ).toMatch(/32 \+ 15 epochs \(best 32 \+ 13\)/);
  });

  it("says when a trained model has no card, and is empty without trained models", () => {
    expect(trainedModelsNote([info("mnistnet3", "trained")], new Map())).toMatch(
      /MnistNet3: no model card in checkpoints\/mnistnet3\//,
    );
    expect(trainedModelsNote([info("mnistnet3", "random")], new Map())).toBe("");
  });
});
