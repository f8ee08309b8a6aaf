// Charts as inline SVG: a sparkline for table rows and a time chart with axes for the slice
// page. Both scale to the data; neither needs more than a few dozen elements.

import { s } from "./dom.js";
import { clock, dateTime } from "./format.js";

/// A small line of the last values, e.g. memory of one slice. `values` are numbers (nulls are
/// skipped); `label` formats one for the tooltip.
export function sparkline(values, { width = 96, height = 22, label = String, cls = "" } = {}) {
  const pts = values.filter((v) => v !== null && v !== undefined && !Number.isNaN(v));
  const svg = s("svg", {
    class: `spark ${cls}`,
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": pts.length ? `last ${pts.length} samples` : "no samples",
  });
  if (!pts.length) return svg;
  const max = Math.max(...pts);
  const min = Math.min(...pts, 0);
  const span = max - min || 1;
  const pad = 2;
  const x = (i) => (pts.length === 1 ? width - pad : pad + (i * (width - 2 * pad)) / (pts.length - 1));
  const y = (v) => height - pad - ((v - min) * (height - 2 * pad)) / span;
  const line = pts.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  if (pts.length > 1) {
    svg.append(
      s("polygon", { class: "area", points: `${x(0)},${height - pad} ${line} ${x(pts.length - 1)},${height - pad}` }),
      s("polyline", { class: "line", points: line }),
    );
  }
  const last = pts[pts.length - 1];
  svg.append(s("circle", { class: "dot", cx: x(pts.length - 1), cy: y(last), r: 2 }));
  svg.append(s("title", {}, `now ${label(last)}, peak ${label(max)}`));
  return svg;
}

/// Rounds `v` up to 1, 2 or 5 times a power of ten (or of 1024 for bytes).
function niceCeil(v, base) {
  if (v <= 0) return 1;
  const exp = Math.floor(Math.log(v) / Math.log(base));
  const unit = base ** exp;
  for (const m of base === 1024 ? [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] : [1, 2, 5, 10])
    if (m * unit >= v) return m * unit;
  return base * unit;
}

/// A time chart: `series` = [{name, cls, points: [[Date ms, value|null], …]}] over [from, to]
/// (ms). `format` labels the y axis; `bytes` makes the axis steps binary.
export function timeChart(series, { from, to, format = String, bytes = false, width = 640, height = 180, title = "" }) {
  const m = { top: 10, right: 12, bottom: 22, left: 62 };
  const w = width - m.left - m.right;
  const hgt = height - m.top - m.bottom;
  const values = series.flatMap((x) => x.points.map((p) => p[1])).filter((v) => v !== null && v !== undefined);
  const top = niceCeil(Math.max(0, ...values) * 1.05, bytes ? 1024 : 10);
  const x = (t) => m.left + ((t - from) * w) / (to - from || 1);
  const y = (v) => m.top + hgt - (v * hgt) / top;
  const svg = s("svg", {
    class: "chart",
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": title,
  });
  // Grid and y labels: four steps.
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    svg.append(
      s("line", { class: "grid", x1: m.left, x2: m.left + w, y1: y(v), y2: y(v) }),
      s("text", { class: "axis", x: m.left - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)),
    );
  }
  // X labels: five times across the range.
  for (let i = 0; i <= 4; i++) {
    const t = from + ((to - from) * i) / 4;
    const long = to - from > 36 * 3600 * 1000;
    const text = long ? dateTime(new Date(t).toISOString()).slice(5, 16) : clock(new Date(t).toISOString()).slice(0, 5);
    svg.append(s("text", { class: "axis", x: x(t), y: height - 6, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" }, text));
  }
  if (!values.length) {
    svg.append(s("text", { class: "empty", x: m.left + w / 2, y: m.top + hgt / 2, "text-anchor": "middle" }, "no samples in this period"));
    return svg;
  }
  for (const ser of series) {
    // A gap of more than three buckets breaks the line, so missing data shows as missing.
    const runs = [];
    let run = [];
    let prev = null;
    for (const [t, v] of ser.points) {
      if (v === null || v === undefined) continue;
      if (prev !== null && ser.gap && t - prev > ser.gap) {
        runs.push(run);
        run = [];
      }
      run.push([t, v]);
      prev = t;
    }
    runs.push(run);
    for (const r of runs) {
      if (r.length === 1)
        svg.append(s("circle", { class: `point ${ser.cls}`, cx: x(r[0][0]), cy: y(r[0][1]), r: 2.5 }));
      else if (r.length > 1)
        svg.append(s("polyline", { class: `series ${ser.cls}`, points: r.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ") }));
    }
  }
  svg.append(s("line", { class: "axis-line", x1: m.left, x2: m.left + w, y1: m.top + hgt, y2: m.top + hgt }));
  return svg;
}
