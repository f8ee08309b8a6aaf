// Users: search by e-mail prefix, promote and demote, revoke sessions, and one user's details.

import { h, fill } from "../dom.js";
import { dateTime } from "../format.js";

const pageSize = 50;

export function usersView(app, openId = null) {
  let users = [];
  let cursor = null;
  let open = openId; // the user whose details are shown
  let detail = null;
  let seq = 0;
  let timer = null;

  const search = h("input", { type: "search", id: "user-search", placeholder: "E-mail starts with…", autocomplete: "off", oninput: () => { clearTimeout(timer); timer = setTimeout(reload, 250); } });
  const admins = h("input", { type: "checkbox", id: "user-admins", onchange: () => reload() });
  const waiting = h("input", { type: "checkbox", id: "user-waiting", onchange: () => reload() });
  const body = h("tbody");
  const more = h("button", { class: "quiet", id: "user-more", hidden: true, onclick: () => fetchPage(false) }, "More users");
  const message = h("p", { class: "form-error", role: "alert", id: "user-message" });
  const notice = h("p", { class: "notice", role: "status", id: "user-notice" });
  const el = h(
    "section",
    { class: "page", id: "users" },
    h("h1", {}, "Users"),
    h("div", { class: "controls" }, search, h("label", { class: "check" }, admins, " administrators"), h("label", { class: "check" }, waiting, " waiting for a slice")),
    message,
    notice,
    h(
      "table",
      { class: "grid users" },
      h("thead", {}, h("tr", {}, ["ID", "E-mail", "Role", "Subscription", "Until", "Slice", "Created", "Last login", ""].map((x) => h("th", {}, x)))),
      body,
    ),
    more,
  );

  function query() {
    const q = { limit: pageSize };
    const prefix = search.value.trim();
    if (prefix) q.email_prefix = prefix;
    if (admins.checked) q.admin = true;
    if (waiting.checked) q.waiting = true;
    return q;
  }

  async function fetchPage(first) {
    const mine = ++seq;
    const q = query();
    if (!first && cursor) q.cursor = cursor;
    try {
      const r = await app.admin("users.list", q);
      if (mine !== seq) return; // a newer search answered first
      users = first ? r.users : users.concat(r.users);
      cursor = r.next_cursor;
      message.textContent = "";
    } catch (err) {
      if (mine !== seq) return;
      message.textContent = `${err.code}: ${err.message}`;
    }
    render();
  }

  function reload() {
    cursor = null;
    return fetchPage(true);
  }

  async function showDetail(id) {
    open = open === id ? null : id;
    detail = null;
    render();
    if (open !== null) await loadDetail(id);
  }

  async function loadDetail(id) {
    try {
      detail = await app.admin("users.get", { user_id: id });
    } catch (err) {
      detail = { error: `${err.code}: ${err.message}` };
    }
    render();
  }

  function replace(u) {
    users = users.map((x) => (x.id === u.id ? u : x));
    if (detail?.user?.id === u.id) detail.user = u;
  }

  async function setAdmin(u, value) {
    const ok = await app.confirm({
      title: value ? `Make ${u.email} an administrator?` : `Withdraw ${u.email}'s administrator rights?`,
      text: value ? "They can then use this dashboard and every admin verb, from their very next request." : "Their very next admin request is refused.",
      action: value ? "Promote" : "Demote",
      reason: false,
    });
    if (!ok) return;
    try {
      replace((await app.admin("users.update", { user_id: u.id, is_admin: value })).user);
      message.textContent = "";
    } catch (err) {
      message.textContent = err.code === "conflict" ? "The last administrator cannot step down." : `${err.code}: ${err.message}`;
    }
    render();
  }

  async function revoke(u) {
    const ok = await app.confirm({ title: `Sign ${u.email} out everywhere?`, text: "Every session of this user is refused at once; they must sign in again.", action: "Revoke sessions", reason: false });
    if (!ok) return;
    try {
      const r = await app.admin("users.revoke_sessions", { user_id: u.id });
      message.textContent = "";
      notice.textContent = `${r.revoked} session${r.revoked === 1 ? "" : "s"} of ${u.email} revoked.`;
      if (u.id === app.session.user?.id) return app.endSession("You revoked your own sessions; please sign in again.");
      if (open === u.id) await loadDetail(u.id);
    } catch (err) {
      notice.textContent = "";
      message.textContent = `${err.code}: ${err.message}`;
    }
  }

  function detailRow(u) {
    if (!detail) return h("tr", { class: "detail" }, h("td", { colspan: 9, class: "muted" }, "Loading…"));
    if (detail.error) return h("tr", { class: "detail" }, h("td", { colspan: 9, class: "form-error" }, detail.error));
    const d = detail;
    return h(
      "tr",
      { class: "detail", id: `user-detail-${u.id}` },
      h(
        "td",
        { colspan: 9 },
        h(
          "div",
          { class: "columns" },
          h(
            "dl",
            { class: "facts" },
            h("dt", {}, "Slice"),
            h("dd", {}, d.slice ? h("a", { href: `#/slices/${d.slice.id}` }, `slice ${d.slice.id} (${d.slice.status}, port ${d.slice.port})`) : d.waiting_position ? `waiting, position ${d.waiting_position}` : "none"),
            h("dt", {}, "Live sessions"),
            h("dd", {}, String(d.live_sessions)),
            h("dt", {}, "Stripe customer"),
            h("dd", {}, d.user.stripe_customer || "–"),
          ),
          h(
            "div",
            {},
            h("h3", {}, "Billing events"),
            d.billing_events.length
              ? h("ul", { class: "plain" }, d.billing_events.map((b) => h("li", {}, `${dateTime(b.stripe_created)} ${b.type}`, b.mapped_status ? ` → ${b.mapped_status}` : "", b.applied_at ? "" : " (not applied)")))
              : h("p", { class: "muted" }, "None."),
          ),
        ),
      ),
    );
  }

  function render() {
    // A user opened from elsewhere (a slice's page) shows even when not on this page of results.
    const rows = open !== null && detail?.user && !users.some((u) => u.id === open) ? [detail.user, ...users] : users;
    if (!rows.length) {
      fill(body, h("tr", {}, h("td", { colspan: 9, class: "muted empty" }, "No user matches.")));
    } else {
      fill(
        body,
        rows.map((u) => [
          h(
            "tr",
            { dataset: { userId: u.id, email: u.email } },
            h("td", { class: "num" }, String(u.id)),
            h("td", {}, h("a", { href: "javascript:void 0", onclick: (e) => { e.preventDefault(); showDetail(u.id); } }, u.email)),
            h("td", {}, u.is_admin ? h("span", { class: "badge admin" }, "admin") : "user"),
            h("td", {}, u.subscription_status),
            h("td", {}, u.subscription_ends_at ? dateTime(u.subscription_ends_at) : "–"),
            h("td", {}, u.slice_id ? h("a", { href: `#/slices/${u.slice_id}` }, String(u.slice_id)) : "–"),
            h("td", {}, dateTime(u.created_at)),
            h("td", {}, u.last_login_at ? dateTime(u.last_login_at) : "never"),
            h(
              "td",
              {},
              h(
                "div",
                { class: "row-actions" },
                h("button", { class: "quiet small", dataset: { action: u.is_admin ? "demote" : "promote" }, onclick: () => setAdmin(u, !u.is_admin) }, u.is_admin ? "Demote" : "Promote"),
                h("button", { class: "quiet small", dataset: { action: "revoke" }, onclick: () => revoke(u) }, "Revoke sessions"),
              ),
            ),
          ),
          open === u.id ? detailRow(u) : null,
        ]),
      );
    }
    more.hidden = !cursor;
  }

  render();
  reload().then(() => {
    if (openId !== null) {
      open = null;
      showDetail(openId);
    }
  });
  return { el, focus: () => search.focus(), dispose: () => clearTimeout(timer) };
}
