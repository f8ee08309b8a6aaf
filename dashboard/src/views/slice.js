// One slice: its state, its telemetry over 1 h / 24 h / 7 d, its status changes since the page
// opened, its user, and the admin actions behind a confirmation.

import { h, fill } from "../dom.js";
import { timeChart } from "../charts.js";
import { ago, bytes, dateTime, percent } from "../format.js";
import { healthBadge, statusBadge } from "./slices.js";

/// Each range with a bucket that gives it 60 to 170 points.
const ranges = {
  "1h": { label: "1 h", seconds: 3600, bucket: 60 },
  "24h": { label: "24 h", seconds: 86400, bucket: 600 },
  "7d": { label: "7 d", seconds: 7 * 86400, bucket: 3600 },
};

/// Which admin verbs apply in which status.
const actions = [
  { verb: "suspend", label: "Suspend", from: ["assigned"], text: "The slice is stopped; its data is kept. Its user cannot use it until it is resumed." },
  { verb: "resume", label: "Resume", from: ["suspended"], text: "The slice is started again for its user." },
  { verb: "destroy", label: "Destroy", from: ["assigned", "suspended"], text: "The slice is removed, its database dropped and re-created empty, its data directory emptied, and its user loses it. This cannot be undone." },
];

function field(name, ...value) {
  return [h("dt", {}, name), h("dd", {}, ...value)];
}

export function sliceView(app, id) {
  let range = "1h";
  let userId;
  let user = null;
  let userError = "";
  let loadError = "";
  let busy = false;
  let chartTimer = null;
  /// What the action bar offers now ("<status>|<busy>"), so that it is rebuilt only on change.
  let shownOffer = "";

  const info = h("dl", { class: "facts", id: "slice-facts" });
  const actionBar = h("div", { class: "actions", id: "slice-actions" });
  const message = h("p", { class: "form-error", role: "alert", id: "slice-message" });
  const userBox = h("div", { id: "slice-user" });
  const statusBox = h("div", { id: "slice-status-log" });
  const rangeBar = h("div", { class: "ranges", role: "group", "aria-label": "period" });
  const charts = h("div", { class: "charts", id: "slice-charts" });
  const summary = h("p", { class: "muted small", id: "chart-summary" });
  const title = h("h1", {}, `Slice ${id}`);

  const el = h(
    "section",
    { class: "page", id: "slice-page", dataset: { sliceId: id } },
    h("p", {}, h("a", { href: "#/slices" }, "← Slices")),
    h("div", { class: "page-head" }, title, actionBar),
    message,
    h("div", { class: "columns" }, h("article", { class: "card" }, h("h2", {}, "State"), info), h("article", { class: "card" }, h("h2", {}, "User"), userBox)),
    h("article", { class: "card" }, h("div", { class: "card-head" }, h("h2", {}, "Telemetry"), rangeBar), summary, charts),
    h("article", { class: "card" }, h("h2", {}, "Status changes"), h("p", { class: "muted small" }, "Seen since this page was opened."), statusBox),
  );

  async function load() {
    try {
      const r = await app.admin("slices.get", { slice_id: id });
      app.store.setSlice(r.slice, r.latest_telemetry);
      loadError = "";
    } catch (err) {
      loadError = err.code === "not_found" ? `There is no slice ${id}.` : `${err.code}: ${err.message}`;
      update();
    }
  }

  async function loadUser(uid) {
    user = null;
    userError = "";
    if (!uid) return update();
    try {
      user = await app.admin("users.get", { user_id: uid });
    } catch (err) {
      userError = `${err.code}: ${err.message}`;
    }
    update();
  }

  async function loadCharts() {
    clearTimeout(chartTimer);
    const r = ranges[range];
    const to = new Date();
    const from = new Date(to.getTime() - r.seconds * 1000);
    let reply;
    try {
      reply = await app.admin("telemetry.slice", { slice_id: id, from: from.toISOString(), to: to.toISOString(), bucket: r.bucket });
    } catch (err) {
      summary.textContent = "";
      fill(charts, h("p", { class: "form-error" }, `${err.code}: ${err.message}`));
      return;
    }
    const pts = reply.points.map((p) => ({ ...p, t: new Date(p.at).getTime() }));
    const opts = { from: from.getTime(), to: to.getTime() };
    const gap = r.bucket * 1000 * 3;
    const series = (key, cls, name) => ({ name, cls, gap, points: pts.map((p) => [p.t, p[key]]) });
    const legend = (...items) => h("div", { class: "legend" }, items.map(([cls, text]) => h("span", { class: cls }, text)));
    summary.textContent = `${pts.length} points of ${r.bucket >= 3600 ? r.bucket / 3600 + " h" : r.bucket / 60 + " min"}, ${pts.reduce((n, p) => n + p.samples, 0)} samples`;
    fill(
      charts,
      h("figure", { class: "chart-box", id: "chart-memory" }, h("figcaption", {}, "Memory", legend(["avg", "average"], ["max", "peak"])), timeChart([series("rss_bytes_max", "max", "peak"), series("rss_bytes_avg", "avg", "average")], { ...opts, format: bytes, bytes: true, title: "memory" })),
      h("figure", { class: "chart-box", id: "chart-cpu" }, h("figcaption", {}, "CPU", legend(["avg", "average"], ["max", "peak"])), timeChart([series("cpu_percent_max", "max", "peak"), series("cpu_percent_avg", "avg", "average")], { ...opts, format: (v) => percent(v, v < 10 ? 1 : 0), title: "cpu" })),
      h("figure", { class: "chart-box", id: "chart-disk" }, h("figcaption", {}, "Disk"), timeChart([series("disk_bytes_last", "avg", "disk")], { ...opts, format: bytes, bytes: true, title: "disk" })),
    );
    chartTimer = setTimeout(loadCharts, Math.max(60, r.bucket) * 1000);
  }

  function renderRanges() {
    fill(
      rangeBar,
      Object.entries(ranges).map(([key, r]) =>
        h("button", { class: `quiet ${key === range ? "active" : ""}`, "aria-pressed": key === range ? "true" : "false", dataset: { range: key }, onclick: () => { range = key; renderRanges(); loadCharts(); } }, r.label),
      ),
    );
  }

  async function act(a, x) {
    const answer = await app.confirm({ title: `${a.label} slice ${x.id}?`, text: a.text, action: a.label });
    if (!answer) return;
    busy = true;
    message.textContent = "";
    update();
    try {
      const body = { slice_id: x.id };
      if (answer.reason) body.reason = answer.reason;
      const r = await app.admin(`slices.${a.verb}`, body);
      app.store.setSlice(r.slice);
    } catch (err) {
      message.textContent = `${a.label} failed: ${err.code}: ${err.message}`;
    }
    busy = false;
    update();
  }

  function update() {
    const x = app.store.slices.get(id);
    if (!x) {
      fill(info, loadError ? h("p", { class: "form-error" }, loadError) : h("p", { class: "muted" }, "Loading…"));
      fill(actionBar);
      shownOffer = "";
      return;
    }
    const t = x.latest_telemetry || {};
    fill(
      info,
      field("Status", statusBadge(x.status), x.status_changed_at ? h("span", { class: "muted small" }, ` since ${dateTime(x.status_changed_at)}`) : null),
      field("Port", String(x.port ?? "–")),
      field("Health", healthBadge(x), x.last_health_at ? h("span", { class: "muted small" }, ` checked ${ago(x.last_health_at)}`) : null),
      field("WhatsApp", `${t.wa_state || "–"}${x.wa_connected ? " (connected)" : ""}`, x.wa_phone ? ` ${x.wa_phone}` : ""),
      field("Memory", bytes(t.rss_bytes)),
      field("CPU", percent(t.cpu_percent)),
      field("Disk", bytes(t.disk_bytes ?? x.storage_bytes)),
      field("Created", dateTime(x.created_at)),
    );
    // Rebuilt only when what it offers changes: health events arrive every interval, and a
    // button replaced between pointer down and up would swallow the operator's click.
    const offer = `${x.status}|${busy}`;
    if (offer !== shownOffer) {
      shownOffer = offer;
      fill(
        actionBar,
        actions.filter((a) => a.from.includes(x.status)).map((a) =>
          h("button", { class: a.verb === "destroy" ? "danger" : "", id: `action-${a.verb}`, disabled: busy, onclick: () => act(a, app.store.slices.get(id) || x) }, a.label),
        ),
      );
    }
    if (x.user_id !== userId) {
      userId = x.user_id;
      loadUser(userId);
    }
    if (!userId) fill(userBox, h("p", { class: "muted" }, "No user: the slice is not assigned."));
    else if (userError) fill(userBox, h("p", { class: "form-error" }, userError));
    else if (!user) fill(userBox, h("p", { class: "muted" }, "Loading…"));
    else {
      const u = user.user;
      fill(
        userBox,
        h(
          "dl",
          { class: "facts" },
          field("E-mail", h("a", { href: `#/users/${u.id}` }, u.email)),
          field("User", `#${u.id}${u.is_admin ? " · administrator" : ""}`),
          field("Subscription", u.subscription_status, u.subscription_ends_at ? ` until ${dateTime(u.subscription_ends_at)}` : ""),
          field("Sessions", `${user.live_sessions} live`),
          field("Last login", u.last_login_at ? dateTime(u.last_login_at) : "never"),
        ),
      );
    }
    const log = app.store.statusLog.get(id) || [];
    fill(
      statusBox,
      log.length
        ? h(
            "ol",
            { class: "status-log" },
            log.map((e) => h("li", {}, h("time", { datetime: e.at }, dateTime(e.at)), " ", statusBadge(e.from), " → ", statusBadge(e.to), e.reason ? h("span", { class: "muted" }, ` ${e.reason}`) : null)),
          )
        : h("p", { class: "muted" }, "No change yet."),
    );
  }

  renderRanges();
  update();
  load();
  loadCharts();
  return { el, update, dispose: () => clearTimeout(chartTimer) };
}
