// The slice table: live, sortable, filterable; memory and CPU as small charts of the samples
// seen since the page opened (seeded with each slice's newest sample).

import { h, fill } from "../dom.js";
import { sparkline } from "../charts.js";
import { ago, bytes, dateTime, percent } from "../format.js";

export function healthBadge(x) {
  if (x.healthy === true) return h("span", { class: "badge good" }, "healthy");
  if (x.healthy === false) return h("span", { class: "badge bad" }, "unhealthy");
  return h("span", { class: "badge" }, "unchecked");
}

export function statusBadge(status) {
  return h("span", { class: `badge status status-${status}`, "data-field": "status" }, status || "?");
}

const columns = [
  { key: "id", label: "ID", value: (x) => x.id },
  { key: "port", label: "Port", value: (x) => x.port ?? 0 },
  { key: "status", label: "Status", value: (x) => x.status || "" },
  { key: "user", label: "User", value: (x) => x.user_email || "" },
  { key: "health", label: "Health", value: (x) => (x.healthy === true ? 2 : x.healthy === false ? 0 : 1) },
  { key: "wa", label: "WhatsApp", value: (x) => x.latest_telemetry?.wa_state || "" },
  { key: "memory", label: "Memory", value: (x) => x.latest_telemetry?.rss_bytes ?? -1 },
  { key: "cpu", label: "CPU", value: (x) => x.latest_telemetry?.cpu_percent ?? -1 },
  { key: "disk", label: "Disk", value: (x) => x.latest_telemetry?.disk_bytes ?? x.storage_bytes ?? -1 },
  { key: "checked", label: "Last check", value: (x) => x.last_health_at || "" },
];

export function slicesView(app) {
  const sort = { key: "id", dir: 1 };
  const filter = h("input", { type: "search", id: "slice-filter", placeholder: "Filter: id, port, e-mail, WhatsApp state…", oninput: () => update() });
  const statusSelect = h(
    "select",
    { id: "slice-status-filter", onchange: () => update() },
    h("option", { value: "" }, "every status"),
    ["available", "assigned", "suspended", "destroying"].map((x) => h("option", { value: x }, x)),
  );
  const head = h("tr");
  const body = h("tbody");
  const count = h("span", { class: "muted", id: "slice-count" });
  const el = h(
    "section",
    { class: "page", id: "slices" },
    h("div", { class: "page-head" }, h("h1", {}, "Slices"), count),
    h("div", { class: "controls" }, filter, statusSelect),
    h("table", { class: "grid slices" }, h("thead", {}, head), body),
  );

  function renderHead() {
    fill(
      head,
      columns.map((c) =>
        h(
          "th",
          {
            class: `sortable ${sort.key === c.key ? "sorted" : ""}`,
            "aria-sort": sort.key === c.key ? (sort.dir > 0 ? "ascending" : "descending") : "none",
            dataset: { key: c.key },
            onclick: () => {
              sort.dir = sort.key === c.key ? -sort.dir : c.key === "id" || c.key === "port" || c.key === "status" || c.key === "user" ? 1 : -1;
              sort.key = c.key;
              renderHead();
              update();
            },
          },
          c.label,
          sort.key === c.key ? (sort.dir > 0 ? " ▲" : " ▼") : "",
        ),
      ),
    );
  }

  function matches(x, text, status) {
    if (status && x.status !== status) return false;
    if (!text) return true;
    const hay = [x.id, x.port, x.status, x.user_email, x.latest_telemetry?.wa_state, x.wa_phone].join(" ").toLowerCase();
    return text.split(/\s+/).every((t) => hay.includes(t));
  }

  function row(x) {
    const t = x.latest_telemetry || {};
    const hist = app.store.history.get(x.id) || [];
    return h(
      "tr",
      { dataset: { sliceId: x.id }, class: "clickable", onclick: (e) => { if (!e.target.closest("a")) app.navigate(`#/slices/${x.id}`); } },
      h("td", { class: "num" }, h("a", { href: `#/slices/${x.id}` }, String(x.id))),
      h("td", { class: "num" }, x.port ?? "–"),
      h("td", {}, statusBadge(x.status)),
      h("td", { class: "user" }, x.user_email || (x.user_id ? `user ${x.user_id}` : "–")),
      h("td", {}, healthBadge(x)),
      h("td", {}, t.wa_state || "–", x.wa_phone ? h("span", { class: "muted small" }, ` ${x.wa_phone}`) : null),
      h("td", {}, h("div", { class: "metric" }, h("span", { class: "num" }, bytes(t.rss_bytes)), sparkline(hist.map((p) => p.rss), { label: bytes, cls: "mem" }))),
      h("td", {}, h("div", { class: "metric" }, h("span", { class: "num" }, percent(t.cpu_percent)), sparkline(hist.map((p) => p.cpu), { label: (v) => percent(v), cls: "cpu" }))),
      h("td", { class: "num" }, bytes(t.disk_bytes ?? x.storage_bytes)),
      h("td", { title: dateTime(x.last_health_at) }, x.last_health_at ? ago(x.last_health_at) : "never"),
    );
  }

  function update() {
    const all = [...app.store.slices.values()];
    const text = filter.value.trim().toLowerCase();
    const shown = all.filter((x) => matches(x, text, statusSelect.value));
    const col = columns.find((c) => c.key === sort.key);
    shown.sort((a, b) => {
      const p = col.value(a);
      const q = col.value(b);
      return (p < q ? -1 : p > q ? 1 : a.id - b.id) * sort.dir;
    });
    count.textContent = shown.length === all.length ? `${all.length} slices` : `${shown.length} of ${all.length} slices`;
    if (!shown.length)
      fill(body, h("tr", {}, h("td", { colspan: columns.length, class: "muted empty" }, app.store.slicesLoaded ? (all.length ? "No slice matches the filter." : "No slices yet.") : "Loading…")));
    else fill(body, shown.map(row));
  }

  renderHead();
  update();
  return { el, update, focus: () => filter.focus() };
}
