/**
 * Line charts as SVG text (no dependencies); {@link renderPng} turns them into
 * PNG with sharp.
 */
export interface Series {
  name: string;
  points: [number, number][];
  color?: string;
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Fixed y range; default: the data's range, padded. */
  yRange?: [number, number];
  /** Format of tick labels on the y axis (default: up to 3 decimals). */
  yFormat?: (v: number) => string;
}

export const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
];

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[0] > lo) ticks.unshift(Number((ticks[0] - step).toPrecision(12)));
  if (ticks[ticks.length - 1] < hi)
    ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

const fmtTick = (v: number) => String(Number(v.toFixed(3)));

export function lineChartSvg(spec: ChartSpec): string {
  const W = spec.width ?? 800;
  const H = spec.height ?? 500;
  const all = spec.series.flatMap((s) => s.points);
  if (all.length === 0) throw new Error(`chart "${spec.title}": no data points`);
  for (const [x, y] of all) {
    if (!Number.isFinite(x) || !Number.isFinite(y))
      throw new Error(`chart "${spec.title}": non-finite point (${x}, ${y})`);
  }
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let xt = niceTicks(Math.min(...xs), Math.max(...xs));
  if (xs.every(Number.isInteger)) {
    // Integer x (epochs): integer ticks only.
    const ints = xt.filter(Number.isInteger);
    xt =
      ints.length >= 2
        ? ints
        : [Math.min(...xs), Math.max(...xs) + (Math.max(...xs) === Math.min(...xs) ? 1 : 0)];
  }
  const yt = spec.yRange
    ? niceTicks(spec.yRange[0], spec.yRange[1])
    : niceTicks(Math.min(...ys), Math.max(...ys));
  const [x0, x1] = [xt[0], xt[xt.length - 1]];
  const [y0, y1] = [yt[0], yt[yt.length - 1]];
  const legendH = 22 * spec.series.length;
  // The legend sits below the x axis label, so it never hides data.
  const m = { left: 80, right: 30, top: 50, bottom: 70 + legendH + 8 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * pw;
  const sy = (y: number) => m.top + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const yf = spec.yFormat ?? fmtTick;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="30" text-anchor="middle" font-size="18">${escapeXml(spec.title)}</text>`,
  );
  for (const v of yt) {
    out.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(v)}" y2="${sy(v)}" stroke="#e0e0e0"/>`,
      `<text x="${m.left - 8}" y="${sy(v) + 4}" text-anchor="end" font-size="12">${escapeXml(yf(v))}</text>`,
    );
  }
  for (const v of xt) {
    out.push(
      `<line x1="${sx(v)}" x2="${sx(v)}" y1="${m.top}" y2="${m.top + ph}" stroke="#f0f0f0"/>`,
      `<text x="${sx(v)}" y="${m.top + ph + 18}" text-anchor="middle" font-size="12">${escapeXml(fmtTick(v))}</text>`,
    );
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${m.left + pw / 2}" y="${m.top + ph + 45}" text-anchor="middle" font-size="14">${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(22 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="14">${escapeXml(spec.yLabel)}</text>`,
  );
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    const d = pts
      .map(([x, y], k) => `${k ? "L" : "M"}${sx(x).toFixed(2)},${sy(y).toFixed(2)}`)
      .join(" ");
    out.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="8 5"' : ""}/>`,
    );
    for (const [x, y] of pts)
      out.push(
        `<circle cx="${sx(x).toFixed(2)}" cy="${sy(y).toFixed(2)}" r="3.5" fill="${color}"/>`,
      );
  });
  const lx = m.left + 12;
  const ly = m.top + ph + 66;
  const lw = 12 + 8 * Math.max(...spec.series.map((s) => s.name.length)) + 40;
  out.push(
    `<rect x="${lx - 6}" y="${ly - 6}" width="${lw}" height="${legendH + 6}" fill="white" fill-opacity="0.85" stroke="#bbb"/>`,
  );
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const y = ly + 22 * i + 8;
    out.push(
      `<line x1="${lx}" x2="${lx + 28}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="8 5"' : ""}/>`,
      `<text x="${lx + 36}" y="${y + 4}" font-size="13">${escapeXml(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n");
}
