import { describe, expect, it } from "vitest";
import { pickKdPair, type RunInfo } from "./figures";

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
    init: false,
    ...extra,
  };
}

describe("pickKdPair", () => {
  it("prefers a like-for-like pair over the first runs found", () => {
    const runs = [
      run("kd20", true, 20),
      run("kd10", true, 10),
      run("plain10", false, 10),
      run("plain20-noaug", false, 20, { augment: false }),
    ];
    const pair = pickKdPair(runs, "cifarnet2");
    expect(pair?.kd.dir).toBe("kd10");
    expect(pair?.plain.dir).toBe("plain10");
    expect(pair?.likeForLike).toBe(true);
  });

  it("falls back to the first KD and no-KD runs, flagged as not like for like", () => {
    const pair = pickKdPair([run("kd20", true, 20), run("plain10", false, 10)], "cifarnet2");
    expect(pair).toMatchObject({
      kd: { dir: "kd20" },
      plain: { dir: "plain10" },
      likeForLike: false,
    });
  });

  it("does not count a continued run (--init) or unknown epochs as like for like", () => {
    expect(
      pickKdPair([run("kd", true, 10, { init: true }), run("plain", false, 10)], "cifarnet2")
        ?.likeForLike,
    ).toBe(false);
    expect(
      pickKdPair([run("kd", true, null), run("plain", false, null)], "cifarnet2")?.likeForLike,
    ).toBe(false);
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
