// The overview: the pool by status and health, the waiting queue, users, the host, alerts.

import { h, fill } from "../dom.js";
import { sparkline } from "../charts.js";
import { ago, bytes, dateTime, duration, percent, share } from "../format.js";
import { alertList } from "./alerts.js";

const statuses = ["available", "assigned", "suspended", "destroying"];

function stat(label, value, cls = "") {
  return h("div", { class: `stat ${cls}` }, h("span", { class: "value" }, String(value)), h("span", { class: "label" }, label));
}

function bar(used, total) {
  return h("div", { class: "bar" }, h("div", { class: "fill", style: `width:${share(used, total).toFixed(1)}%` }));
}

function meter(name, used, total, text) {
  return h("div", { class: "meter" }, h("div", { class: "meter-head" }, h("span", {}, name), h("span", { class: "muted" }, text)), bar(used, total));
}

export function overviewView(app) {
  const grid = h("div", { class: "cards" });
  const el = h("section", { class: "page", id: "overview" }, h("h1", {}, "Overview"), grid);

  function update() {
    const store = app.store;
    const o = store.overview || {};
    const c = store.slicesLoaded ? store.counts() : o.slices || {};
    const w = o.waiting || {};
    const u = o.users || {};
    const srv = store.server;

    const pool = h(
      "article",
      { class: "card", id: "card-slices" },
      h("h2", {}, "Slices"),
      h("div", { class: "stats" }, stat("total", c.total ?? 0), statuses.map((x) => stat(x, c[x] ?? 0, `status-${x}`))),
      h("div", { class: "stack", title: "slices by status" }, statuses.map((x) => (c[x] ? h("div", { class: `seg status-${x}`, style: `flex:${c[x]}` }) : null))),
      h("a", { href: "#/slices" }, "All slices →"),
    );
    const health = h(
      "article",
      { class: "card", id: "card-health" },
      h("h2", {}, "Health"),
      h("div", { class: "stats" }, stat("healthy", c.healthy ?? 0, "good"), stat("unhealthy", c.unhealthy ?? 0, c.unhealthy ? "bad" : ""), stat("unchecked", c.unchecked ?? 0)),
    );
    const waiting = h(
      "article",
      { class: "card", id: "card-waiting" },
      h("h2", {}, "Waiting queue"),
      h("div", { class: "stats" }, stat("waiting", w.length ?? 0, w.length ? "warn" : ""), stat("longest wait", w.length ? duration(w.oldest_wait_seconds) : "–")),
      w.oldest_since ? h("p", { class: "muted" }, `waiting since ${dateTime(w.oldest_since)}`) : h("p", { class: "muted" }, "nobody waits for a slice"),
    );
    const users = h(
      "article",
      { class: "card", id: "card-users" },
      h("h2", {}, "Users"),
      h("div", { class: "stats" }, stat("total", u.total ?? 0), stat("trial", u.trial ?? 0), stat("active", u.active ?? 0), stat("past due", u.past_due ?? 0), stat("cancelled", u.cancelled ?? 0), stat("admins", u.admins ?? 0)),
      h("a", { href: "#/users" }, "Users →"),
    );
    const hist = store.serverHistory;
    const server = h(
      "article",
      { class: "card wide", id: "card-server" },
      h("h2", {}, "Server"),
      srv
        ? [
            meter("RAM", srv.ram_used_bytes, srv.ram_total_bytes, `${bytes(srv.ram_used_bytes)} of ${bytes(srv.ram_total_bytes)}`),
            meter("Swap", srv.swap_used_bytes, srv.swap_total_bytes, `${bytes(srv.swap_used_bytes)} of ${bytes(srv.swap_total_bytes)}`),
            meter("CPU", srv.cpu_percent, 100, percent(srv.cpu_percent)),
            meter("Disk", srv.disk_used_bytes, srv.disk_total_bytes, `${bytes(srv.disk_used_bytes)} of ${bytes(srv.disk_total_bytes)}`),
            h(
              "div",
              { class: "trends" },
              h("span", { class: "muted" }, "RAM"),
              sparkline(hist.map((p) => p.ram), { width: 160, height: 28, label: bytes, cls: "mem" }),
              h("span", { class: "muted" }, "CPU"),
              sparkline(hist.map((p) => p.cpu), { width: 160, height: 28, label: (v) => percent(v), cls: "cpu" }),
            ),
            h("p", { class: "muted" }, `${srv.active_slices} of ${srv.total_slices} slices active · sampled ${ago(srv.timestamp)}`),
          ]
        : h("p", { class: "muted" }, "No host sample yet."),
    );
    const alerts = h(
      "article",
      { class: "card wide", id: "card-alerts" },
      h("h2", {}, "Alerts", h("span", { class: "muted small" }, ` ${o.alerts_last_hour ?? 0} in the last hour at load`)),
      alertList(store.alerts, { limit: 8 }),
      h("a", { href: "#/alerts" }, "All alerts →"),
    );
    fill(grid, pool, health, waiting, users, server, alerts);
  }

  update();
  return { el, update };
}
