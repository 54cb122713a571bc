import { describe, expect, it } from "vitest";
import { type KdPair, pickKdPairs, type RunInfo, runStages, type Stage } from "./figures";

/** The first group pickKdPairs draws (the only one when a student has one like-for-like pair). */
const pickKdPair = (runs: RunInfo[], model: string): KdPair | undefined =>
  pickKdPairs(runs, model)[0];

const stage = (epochs: number | null, extra: Partial<Stage> = {}): Stage => ({
  epochs,
  augment: true,
  lr: 0.001,
  lrSchedule: "cosine",
  batch: 128,
  weightDecay: 0,
  signGrad: "ste",
  poolFirst: false,
  ...extra,
});

function run(
  dir: string,
  kd: boolean,
  epochs: number | null,
  extra: Partial<RunInfo> = {},
): RunInfo {
  return {
    dir,
    model: "cifarnet2",
    dataset: "cifar10",
    kd,
    epochs,
    augment: true,
    stages: [stage(epochs)],
    ...extra,
  };
}

describe("pickKdPair", () => {
  it("prefers a like-for-like pair over the first runs found", () => {
    const runs = [
      run("kd20", true, 20),
      run("kd10", true, 10),
      run("plain10", false, 10),
      run("plain20-noaug", false, 20, { stages: [stage(20, { augment: false })] }),
    ];
    const pair = pickKdPair(runs, "cifarnet2");
    expect(pair?.kds.map((r) => r.dir)).toEqual(["kd10"]);
    expect(pair?.plain.dir).toBe("plain10");
    expect(pair?.likeForLike).toBe(true);
  });

  it("draws every KD run with the no-KD run's recipe (one per teacher), and no other", () => {
    const runs = [
      run("kd10-teacherA", true, 10),
      run("kd20", true, 20),
      run("kd10-teacherB", true, 10),
      run("plain10", false, 10),
    ];
    const pair = pickKdPair(runs, "cifarnet2");
    expect(pair?.kds.map((r) => r.dir)).toEqual(["kd10-teacherA", "kd10-teacherB"]);
    expect(pair?.plain.dir).toBe("plain10");
    expect(pair?.likeForLike).toBe(true);
  });

  it("falls back to the first KD and no-KD runs, flagged as not like for like", () => {
    const pair = pickKdPair([run("kd20", true, 20), run("plain10", false, 10)], "cifarnet2");
    expect(pair).toMatchObject({
      kds: [{ dir: "kd20" }],
      plain: { dir: "plain10" },
      likeForLike: false,
    });
  });

  it("does not count a continued run against one from scratch, or unknown epochs, as like for like", () => {
    const continued = { stages: [stage(40), stage(10)] };
    expect(
      pickKdPair([run("kd", true, 10, continued), run("plain", false, 10)], "cifarnet2")
        ?.likeForLike,
    ).toBe(false);
    expect(
      pickKdPair(
        [run("kd", true, 10, { stages: null }), run("plain", false, 10, { stages: null })],
        "cifarnet2",
      )?.likeForLike,
    ).toBe(false);
    expect(
      pickKdPair([run("kd", true, null), run("plain", false, null)], "cifarnet2")?.likeForLike,
    ).toBe(false);
  });

  it("counts two runs continued alike from runs trained alike as like for like", () => {
    const chain = { stages: [stage(40), stage(30, { lr: 0.002 })] };
    expect(
      pickKdPair([run("kd", true, 30, chain), run("plain", false, 30, chain)], "cifarnet2")
        ?.likeForLike,
    ).toBe(true);
    // a KD run with weight decay (AdamW) is not like for like with a plain-Adam no-KD run
    const adamW = { stages: [stage(30, { weightDecay: 0.05 })] };
    expect(
      pickKdPair([run("kd", true, 30, adamW), run("plain", false, 30)], "cifarnet2")?.likeForLike,
    ).toBe(false);
    // nor is a KD run trained with ApproxSign's gradient beside a hard-tanh STE one
    const approx = { stages: [stage(30, { signGrad: "approx" })] };
    expect(
      pickKdPair([run("kd", true, 30, approx), run("plain", false, 30)], "cifarnet2")?.likeForLike,
    ).toBe(false);
    // nor one trained with the maxpool before the Sign (--pool-first)
    const poolFirst = { stages: [stage(30, { poolFirst: true })] };
    expect(
      pickKdPair([run("kd", true, 30, poolFirst), run("plain", false, 30)], "cifarnet2")
        ?.likeForLike,
    ).toBe(false);
    const otherLr = { stages: [stage(40, { lr: 0.003 }), stage(30, { lr: 0.002 })] };
    expect(
      pickKdPair([run("kd", true, 30, chain), run("plain", false, 30, otherLr)], "cifarnet2")
        ?.likeForLike,
    ).toBe(false);
  });

  it("draws one group per recipe (plain Adam and AdamW), the shipped ones only when any exist", () => {
    const adamW = { stages: [stage(10, { weightDecay: 0.05 })] };
    const shipped = { shipped: true };
    const runs = [
      run("kd10", true, 10, shipped),
      run("kd10-wd", true, 10, { ...adamW, ...shipped }),
      run("plain10", false, 10, shipped),
      run("plain10-wd", false, 10, { ...adamW, ...shipped }),
      // local (runs/) pair of another recipe: not mixed into the shipped figure
      run("kd20-local", true, 20),
      run("plain20-local", false, 20),
    ];
    const groups = pickKdPairs(runs, "cifarnet2");
    expect(groups.map((g) => [g.kds.map((r) => r.dir), g.plain.dir, g.likeForLike])).toEqual([
      [["kd10"], "plain10", true],
      [["kd10-wd"], "plain10-wd", true],
    ]);
    expect(pickKdPair(runs, "cifarnet2")?.plain.dir).toBe("plain10");
    // a local KD run of a shipped group's recipe (another seed) stays out of the shipped figure
    const withSeed = [...runs, run("kd10-seed2-local", true, 10)];
    expect(pickKdPairs(withSeed, "cifarnet2").map((g) => g.kds.map((r) => r.dir))).toEqual([
      ["kd10"],
      ["kd10-wd"],
    ]);
    // nothing shipped: the local like-for-like groups are drawn
    const local = runs.map((r) => ({ ...r, shipped: false }));
    expect(pickKdPairs(local, "cifarnet2")).toHaveLength(3);
    expect(pickKdPairs([run("kd", true, 10)], "cifarnet2")).toEqual([]);
  });

  it("runStages reads the chain from run.json's --init records", () => {
    const hyper = { epochs: 40, lr: 0.003, lrSchedule: "cosine", batchSize: 128 };
    const first = { augment: true, hyper, init: null };
    expect(runStages(first)).toEqual([stage(40, { lr: 0.003 })]);
    const second = {
      augment: true,
      hyper: { ...hyper, epochs: 30, lr: 0.002 },
      init: { run: first, epochs: 39 },
    };
    expect(runStages(second)).toEqual([stage(40, { lr: 0.003 }), stage(30, { lr: 0.002 })]);
    expect(runStages({ ...first, hyper: { ...hyper, weightDecay: 0.05 } })).toEqual([
      stage(40, { lr: 0.003, weightDecay: 0.05 }),
    ]);
    expect(runStages({ ...first, hyper: { ...hyper, signGrad: "approx" } })).toEqual([
      stage(40, { lr: 0.003, signGrad: "approx" }),
    ]);
    expect(runStages({ ...first, hyper: { ...hyper, poolFirst: true } })).toEqual([
      stage(40, { lr: 0.003, poolFirst: true }),
    ]);
    // weights of unknown origin (no source run recorded)
    expect(runStages({ ...second, init: { epochs: 39 } })).toBeNull();
  });

  it("is undefined when the student lacks a KD or a no-KD run, and ignores other models", () => {
    expect(pickKdPair([run("kd", true, 10)], "cifarnet2")).toBeUndefined();
    expect(
      pickKdPair(
        [run("kd", true, 10), run("plain", false, 10, { model: "mnistnet3" })],
        "cifarnet2",
      ),
    ).toBeUndefined();
  });
});
