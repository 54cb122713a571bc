import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { historyChart, loadHistory } from "./history";
import { renderPng } from "./png";
import { lineChartSvg, niceTicks } from "./svg";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cbnn-plot-"));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("plots", () => {
  it("renders a PNG of the requested size with the series drawn", async () => {
    const svg = lineChartSvg({
      title: "t <&>",
      xLabel: "x",
      yLabel: "y",
      width: 640,
      height: 400,
      series: [
        {
          name: "a",
          points: [
            [0, 1],
            [1, 3],
            [2, 2],
          ],
          color: "#ff0000",
        },
        {
          name: "b",
          points: [
            [0, 2],
            [2, 0],
          ],
          dashed: true,
        },
      ],
    });
    expect(svg).toContain("t &lt;&amp;&gt;");
    const path = join(tmp(), "sub", "c.png");
    const size = await renderPng(svg, path);
    expect(size).toEqual({ width: 640, height: 400 });
    const meta = await sharp(path).metadata();
    expect(meta.format).toBe("png");
    expect([meta.width, meta.height]).toEqual([640, 400]);
    // The red series is actually drawn: some pixels are pure-ish red.
    const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
    let red = 0;
    for (let i = 0; i < data.length; i += info.channels) {
      if (data[i] > 200 && data[i + 1] < 60 && data[i + 2] < 60) red++;
    }
    expect(red).toBeGreaterThan(100);
  });

  it("nice ticks cover the range with round steps", () => {
    expect(niceTicks(0, 1, 6)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    const t = niceTicks(81.3, 86.9);
    expect(t[0]).toBeLessThanOrEqual(81.3);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(86.9);
    expect(niceTicks(5, 5).length).toBeGreaterThan(1);
  });

  it("rejects empty and non-finite data", () => {
    expect(() => lineChartSvg({ title: "e", xLabel: "", yLabel: "", series: [] })).toThrow(
      /no data/,
    );
    expect(() =>
      lineChartSvg({
        title: "n",
        xLabel: "",
        yLabel: "",
        series: [{ name: "a", points: [[0, Number.NaN]] }],
      }),
    ).toThrow(/non-finite/);
  });

  it("labels histories from run.json and charts a metric", () => {
    const d = tmp();
    const h = [
      {
        epoch: 1,
        trainLoss: 1,
        trainAcc: 0.5,
        valLoss: 1,
        valAcc: 0.6,
        lr: 1,
        seconds: 1,
        imagesPerSecond: 1,
      },
      {
        epoch: 2,
        trainLoss: 0.5,
        trainAcc: 0.7,
        valLoss: 0.8,
        valAcc: 0.75,
        lr: 1,
        seconds: 1,
        imagesPerSecond: 1,
      },
    ];
    writeFileSync(join(d, "history.json"), JSON.stringify(h));
    writeFileSync(
      join(d, "run.json"),
      JSON.stringify({
        model: "cifarnet2",
        kd: { lambda: 0.1, T: 10 },
        teacher: { model: "vgg16" },
      }),
    );
    const l = loadHistory(d);
    expect(l.label).toBe("cifarnet2 KD λ=0.1 T=10 (vgg16)");
    const c = historyChart([l], "valAcc");
    expect(c.series[0].points).toEqual([
      [1, 60],
      [2, 75],
    ]);
    writeFileSync(
      join(d, "run.json"),
      JSON.stringify({ model: "cifarnet2", kd: null, hyper: { weightDecay: 0.05 } }),
    );
    expect(loadHistory(d).label).toBe("cifarnet2 no KD, AdamW wd=0.05");
    writeFileSync(
      join(d, "run.json"),
      JSON.stringify({ model: "cifarnet2", kd: null, hyper: { signGrad: "approx" } }),
    );
    expect(loadHistory(d).label).toBe("cifarnet2 no KD, ApproxSign grad");
    writeFileSync(
      join(d, "run.json"),
      JSON.stringify({ model: "cifarnet2", kd: null, hyper: { ema: 0.999 } }),
    );
    expect(loadHistory(d).label).toBe("cifarnet2 no KD, EMA 0.999");
    writeFileSync(join(d, "bad.json"), JSON.stringify({ nope: 1 }));
    expect(() => loadHistory(join(d, "bad.json"))).toThrow(/bad\.json: not a history/);
  });
});
