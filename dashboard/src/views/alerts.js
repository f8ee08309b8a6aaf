// Alerts as they come (<p>.slice.alert.<id>), after the overview's alerts of the last hour.

import { h, fill } from "../dom.js";
import { ago, dateTime } from "../format.js";

const severity = {
  unhealthy: "bad",
  wa_disconnected: "warn",
  memory_high: "warn",
  disk_high: "warn",
  restarted: "warn",
  recovered: "good",
  wa_connected: "good",
};

export function alertList(alerts, { limit = Infinity } = {}) {
  if (!alerts.length) return h("p", { class: "muted" }, "No alerts.");
  return h(
    "ul",
    { class: "alerts" },
    alerts.slice(0, limit).map((a) =>
      h(
        "li",
        { class: `alert ${severity[a.kind] || ""}`, dataset: { sliceId: a.slice_id, kind: a.kind } },
        h("span", { class: "kind" }, a.kind.replace("_", " ")),
        h("a", { href: `#/slices/${a.slice_id}` }, `slice ${a.slice_id}`),
        h("span", { class: "detail" }, a.detail || ""),
        h("time", { datetime: a.at, title: dateTime(a.at) }, ago(a.at)),
      ),
    ),
  );
}

export function alertsView(app) {
  const body = h("div");
  const el = h(
    "section",
    { class: "page", id: "alerts-page" },
    h("h1", {}, "Alerts"),
    h("p", { class: "muted" }, "The last hour's alerts at load, then every alert as it is raised."),
    body,
  );
  const update = () => fill(body, alertList(app.store.alerts));
  update();
  return { el, update };
}
