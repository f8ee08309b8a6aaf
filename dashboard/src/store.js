// What the page knows, kept current by the first load (admin verbs) and then by the events.
// Views read it and re-render when it announces a change.

/// Samples kept per slice for the table's small charts (at the default 60 s health interval,
/// the last hour).
export const historyLength = 60;
/// Host samples kept for the overview's small charts.
export const serverHistoryLength = 120;
const alertsKept = 500;

export class Store {
  constructor() {
    this.slices = new Map(); // id -> admin slice (+ user_email, latest_telemetry)
    this.history = new Map(); // id -> [{at, rss, cpu}]
    this.statusLog = new Map(); // id -> [{slice_id, at, from, to, user_id, reason}] newest first
    this.alerts = []; // newest first
    this.alertKeys = new Set();
    this.unseenAlerts = 0;
    this.server = null;
    this.serverHistory = []; // [{at, ram, ramTotal, cpu}]
    this.overview = null;
    this.slicesLoaded = false;
    this.listeners = new Set();
    this.pending = false;
  }

  /// fn() is called (batched, at most once a frame) after every change.
  listen(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed() {
    if (this.pending) return;
    this.pending = true;
    setTimeout(() => {
      this.pending = false;
      for (const fn of [...this.listeners]) fn();
    }, 50);
  }

  // -- first load ------------------------------------------------------------------------

  /// The reply of slices.list {telemetry: true}: replaces the list, keeps the histories.
  setSlices(list) {
    const seen = new Set();
    for (const x of list) {
      seen.add(x.id);
      const old = this.slices.get(x.id);
      this.slices.set(x.id, { ...old, ...x });
      const t = x.latest_telemetry;
      if (t) this.pushHistory(x.id, t.at, t.rss_bytes, t.cpu_percent);
    }
    for (const id of [...this.slices.keys()]) if (!seen.has(id)) this.slices.delete(id);
    this.slicesLoaded = true;
    this.changed();
  }

  /// One admin slice from an action's reply or slices.get.
  setSlice(x, latest) {
    const old = this.slices.get(x.id) || {};
    const merged = { ...old, ...x };
    if (latest !== undefined) merged.latest_telemetry = latest;
    this.slices.set(x.id, merged);
    this.changed();
  }

  setOverview(o) {
    this.overview = o;
    if (o.server && (!this.server || o.server.at > (this.server.timestamp || ""))) {
      this.server = { ...o.server, timestamp: o.server.at };
      this.pushServer(this.server);
    }
    for (const a of [...(o.alerts || [])].reverse()) this.addAlert(a, false);
    this.changed();
  }

  /// A telemetry.server series (points of buckets) to start the host charts with.
  seedServer(points) {
    for (const p of points)
      this.pushServer({
        timestamp: p.at,
        ram_used_bytes: p.ram_used_bytes_avg,
        ram_total_bytes: p.ram_total_bytes,
        cpu_percent: p.cpu_percent_avg,
      });
    this.changed();
  }

  // -- events ----------------------------------------------------------------------------

  /// <p>.slice.health.<id>
  health(ev) {
    const x = this.slices.get(ev.slice_id) || { id: ev.slice_id, status: "?" };
    x.healthy = ev.healthy;
    x.wa_connected = ev.wa_connected;
    x.wa_phone = ev.wa_phone;
    x.last_health_at = ev.at;
    x.latest_telemetry = {
      at: ev.at,
      wa_state: ev.wa_state,
      rss_bytes: ev.rss_bytes,
      cpu_percent: ev.cpu_percent,
      disk_bytes: ev.disk_bytes,
    };
    this.slices.set(ev.slice_id, x);
    this.pushHistory(ev.slice_id, ev.at, ev.rss_bytes, ev.cpu_percent);
    this.changed();
    return x.status === "?";
  }

  /// <p>.slice.status.<id>; true when the slice was not known yet.
  status(ev) {
    const known = this.slices.has(ev.slice_id);
    const x = this.slices.get(ev.slice_id) || { id: ev.slice_id };
    x.status = ev.to;
    x.user_id = ev.to === "available" || ev.to === "destroying" ? null : ev.user_id ?? x.user_id;
    if (x.user_id === null) x.user_email = null;
    x.status_changed_at = ev.at;
    this.slices.set(ev.slice_id, x);
    const log = this.statusLog.get(ev.slice_id) || [];
    log.unshift(ev);
    this.statusLog.set(ev.slice_id, log.slice(0, 200));
    this.changed();
    return !known;
  }

  /// <p>.slice.alert.<id> (also the overview's alerts, not counted as new).
  addAlert(a, fresh = true) {
    const key = `${a.slice_id}|${a.at}|${a.kind}`;
    if (this.alertKeys.has(key)) return;
    this.alertKeys.add(key);
    this.alerts.push(a);
    this.alerts.sort((p, q) => (p.at < q.at ? 1 : p.at > q.at ? -1 : 0));
    if (this.alerts.length > alertsKept) this.alerts.length = alertsKept;
    if (fresh) this.unseenAlerts++;
    this.changed();
  }

  /// <p>.server.telemetry: the server_telemetry row.
  serverSample(row) {
    this.server = row;
    this.pushServer(row);
    this.changed();
  }

  // -- helpers ---------------------------------------------------------------------------

  pushHistory(id, at, rss, cpu) {
    const h = this.history.get(id) || [];
    if (h.some((p) => p.at === at)) return;
    h.push({ at, rss: rss ?? null, cpu: cpu ?? null });
    h.sort((p, q) => (p.at < q.at ? -1 : 1));
    if (h.length > historyLength) h.splice(0, h.length - historyLength);
    this.history.set(id, h);
  }

  pushServer(row) {
    const at = row.timestamp;
    if (!at || this.serverHistory.some((p) => p.at === at)) return;
    this.serverHistory.push({ at, ram: row.ram_used_bytes, ramTotal: row.ram_total_bytes, cpu: row.cpu_percent });
    this.serverHistory.sort((p, q) => (p.at < q.at ? -1 : 1));
    if (this.serverHistory.length > serverHistoryLength)
      this.serverHistory.splice(0, this.serverHistory.length - serverHistoryLength);
  }

  /// Slice counts as the table sees them now (status, health).
  counts() {
    const c = { total: 0, available: 0, assigned: 0, suspended: 0, destroying: 0, healthy: 0, unhealthy: 0, unchecked: 0 };
    for (const x of this.slices.values()) {
      c.total++;
      if (x.status in c) c[x.status]++;
      if (x.healthy === true) c.healthy++;
      else if (x.healthy === false) c.unhealthy++;
      else c.unchecked++;
    }
    return c;
  }
}
