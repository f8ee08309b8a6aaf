// The dashboard: signs in over NATS, loads the pool with the admin verbs, then follows the
// events. Pages are views of one store; the hash names the page (#/, #/slices, #/slices/7,
// #/users, #/alerts).

import { h, fill } from "./dom.js";
import { ApiError, Gateway } from "./gateway.js";
import * as session from "./session.js";
import { Store } from "./store.js";
import { loginView, refusalView } from "./views/login.js";
import { overviewView } from "./views/overview.js";
import { slicesView } from "./views/slices.js";
import { sliceView } from "./views/slice.js";
import { usersView } from "./views/users.js";
import { alertsView } from "./views/alerts.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const signOutButton = document.getElementById("sign-out");
const linkBadge = document.getElementById("link");
const alertCount = document.getElementById("alert-count");

/// How often the overview (waiting queue, users) is asked for again without an event.
const overviewInterval = 30000;

const app = {
  gw: null,
  store: new Store(),
  session: null,
  view: null,
  live: [],
  timers: [],
  refreshTimer: null,

  /// An admin verb with the session; a 401 ends the session and shows the sign-in page.
  async admin(verb, body = {}) {
    try {
      return await this.gw.request(["admin", ...verb.split(".")], { ...body, session_id: this.session.id });
    } catch (err) {
      if (err instanceof ApiError && err.code === "unauthorized") {
        this.endSession("Your session has ended; please sign in again.");
      }
      throw err;
    }
  },

  confirm,
  navigate(hash) {
    location.hash = hash;
  },

  endSession(message) {
    this.stopLive();
    session.clear();
    this.session = null;
    this.store = new Store();
    showSignedOut();
    show(loginView(app, message));
  },

  async signOut() {
    const id = this.session?.id;
    this.stopLive();
    session.clear();
    this.session = null;
    this.store = new Store();
    if (id) this.gw.request(["auth", "logout"], { session_id: id }).catch(() => {});
    showSignedOut();
    show(loginView(app));
  },

  /// After a sign-in (or with a stored session): the first load decides between the
  /// dashboard and the refusal.
  async start(s) {
    this.session = s;
    who.textContent = s.user?.email || "";
    signOutButton.hidden = false;
    try {
      this.store.setOverview(await this.admin("overview"));
    } catch (err) {
      if (err.code === "forbidden") {
        nav.hidden = true;
        show(refusalView(app, err));
        return;
      }
      if (err.code === "unauthorized") return;
      show(h("section", { class: "panel error" }, h("h1", {}, "slicegate does not answer"), h("p", {}, `${err.code}: ${err.message}`)));
      return;
    }
    nav.hidden = false;
    this.startLive();
    await this.refreshSlices().catch(() => {});
    this.admin("telemetry.server", { from: new Date(Date.now() - 3600e3).toISOString(), bucket: 60 })
      .then((r) => this.store.seedServer(r.points))
      .catch(() => {});
    route();
  },

  async refreshSlices() {
    const r = await this.admin("slices.list", { telemetry: true });
    this.store.setSlices(r.slices);
  },

  async refreshOverview() {
    this.store.setOverview(await this.admin("overview"));
  },

  /// Soon, once, however many events ask for it: the list and the overview again (new
  /// slices, e-mails of new owners, the waiting queue).
  refreshSoon() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      if (!this.session) return;
      this.refreshSlices().catch(() => {});
      this.refreshOverview().catch(() => {});
    }, 300);
  },

  startLive() {
    const store = this.store;
    this.live.push(
      this.gw.subscribe(["slice", ">"], (t, body) => {
        if (t[1] === "health") {
          if (store.health(body)) this.refreshSoon();
        } else if (t[1] === "status") {
          store.status(body);
          this.refreshSoon();
        } else if (t[1] === "alert") {
          store.addAlert(body);
          updateAlertCount();
        }
      }),
      this.gw.subscribe(["server", "telemetry"], (_t, body) => store.serverSample(body)),
      this.gw.subscribe(["user", "slice", ">"], () => this.refreshSoon()),
    );
    this.timers.push(setInterval(() => this.refreshOverview().catch(() => {}), overviewInterval));
    this.unlisten = store.listen(() => {
      updateAlertCount();
      this.view?.update?.();
    });
  },

  stopLive() {
    for (const sub of this.live) sub.unsubscribe();
    this.live = [];
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.unlisten?.();
    this.unlisten = null;
    clearTimeout(this.refreshTimer);
  },
};

function show(view) {
  app.view?.dispose?.();
  app.view = view;
  fill(main, view.el);
  view.focus?.();
}

function showSignedOut() {
  nav.hidden = true;
  who.textContent = "";
  signOutButton.hidden = true;
  alertCount.hidden = true;
}

function updateAlertCount() {
  const n = app.store.unseenAlerts;
  alertCount.hidden = n === 0;
  alertCount.textContent = String(n);
}

function route() {
  if (!app.session || nav.hidden) return;
  const path = location.hash.replace(/^#/, "") || "/";
  const parts = path.split("/").filter(Boolean);
  let view;
  let name = parts[0] || "overview";
  if (name === "slices" && parts[1]) view = sliceView(app, Number(parts[1]));
  else if (name === "slices") view = slicesView(app);
  else if (name === "users") view = usersView(app, parts[1] ? Number(parts[1]) : null);
  else if (name === "alerts") {
    app.store.unseenAlerts = 0;
    updateAlertCount();
    view = alertsView(app);
  } else {
    name = "overview";
    view = overviewView(app);
  }
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", a.dataset.route === name);
  show(view);
}

// -- the confirmation dialog --------------------------------------------------------------

const dialog = document.getElementById("confirm");

/// Asks before a change: resolves to {reason} on confirm, null on cancel.
function confirm({ title, text, action = "Confirm", reason = true }) {
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = action;
  const input = document.getElementById("confirm-reason");
  input.value = "";
  document.getElementById("confirm-reason-label").hidden = !reason;
  dialog.returnValue = "";
  dialog.showModal();
  (reason ? input : document.getElementById("confirm-ok")).focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve(dialog.returnValue === "ok" ? { reason: input.value.trim() } : null),
      { once: true },
    );
  });
}

// -- start ---------------------------------------------------------------------------------

const linkText = {
  connected: "live",
  reconnected: "live",
  disconnected: "offline, reconnecting…",
  reconnecting: "offline, reconnecting…",
  closed: "offline",
};

async function boot() {
  let settings;
  try {
    const r = await fetch("config.json", { cache: "no-store" });
    if (!r.ok) throw new Error(`config.json: HTTP ${r.status}`);
    settings = await r.json();
    if (!settings.nats_ws_url) throw new Error("config.json has no nats_ws_url");
  } catch (err) {
    linkBadge.textContent = "no settings";
    fill(main, h("section", { class: "panel error" }, h("h1", {}, "The dashboard has no settings"), h("p", {}, String(err.message || err))));
    return;
  }
  app.gw = new Gateway(settings);
  app.gw.onLink = (state) => {
    linkBadge.textContent = linkText[state] || state;
    linkBadge.className = `link ${state === "connected" || state === "reconnected" ? "up" : "down"}`;
    // Events missed while offline: catch up from the API.
    if (state === "reconnected" && app.session && !nav.hidden) app.refreshSoon();
  };
  try {
    await app.gw.connect();
  } catch (err) {
    linkBadge.textContent = "offline";
    linkBadge.className = "link down";
    fill(main, h("section", { class: "panel error" }, h("h1", {}, "Cannot reach NATS"), h("p", {}, `${settings.nats_ws_url}: ${err.message || err}`), h("p", {}, h("button", { onclick: () => location.reload() }, "Try again"))));
    return;
  }
  signOutButton.addEventListener("click", () => app.signOut());
  window.addEventListener("hashchange", route);
  const stored = session.load();
  if (stored) app.start(stored);
  else show(loginView(app));
}

export { app };
boot();
