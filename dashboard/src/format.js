// How numbers and times read on the page.

const units = ["B", "KiB", "MiB", "GiB", "TiB"];

export function bytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  let v = Number(n);
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function percent(n, digits = 1) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  return `${Number(n).toFixed(digits)}%`;
}

/// "2026-12-03 16:29:07" in the browser's time zone.
export function dateTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(
    d.getMinutes())}:${p(d.getSeconds())}`;
}

export function clock(iso) {
  return dateTime(iso).slice(11);
}

/// "3 s", "5 min", "2 h", "4 d".
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

export function ago(iso) {
  if (!iso) return "never";
  return `${duration((Date.now() - new Date(iso).getTime()) / 1000)} ago`;
}

/// A ratio as a bar width, 0..100.
export function share(used, total) {
  if (!total) return 0;
  return Math.max(0, Math.min(100, (100 * used) / total));
}
