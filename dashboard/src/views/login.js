// Sign-in (gateway.auth.login) and the refusal a non-admin gets.

import { h } from "../dom.js";
import * as session from "../session.js";

const messages = {
  invalid_credentials: "Wrong e-mail or password.",
  unauthorized: "Wrong e-mail or password.",
  rate_limited: "Too many attempts for this account; wait a while and try again.",
  unavailable: "slicegate is not available right now; try again shortly.",
};

export function loginView(app, notice = "") {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "form-error", role: "alert" });
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "panel login", id: "login-form", onsubmit: submit },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "The slicegate admin dashboard. Use an administrator's account."),
    notice && h("p", { class: "notice" }, notice),
    h("label", {}, "E-mail", email),
    h("label", {}, "Password", password),
    error,
    button,
  );

  async function submit(e) {
    e.preventDefault();
    error.textContent = "";
    button.disabled = true;
    try {
      const reply = await app.gw.request(["auth", "login"], { email: email.value.trim(), password: password.value }, 30000);
      password.value = "";
      app.start(session.save(reply));
    } catch (err) {
      let text = messages[err.code] || `${err.code}: ${err.message}`;
      if (err.code === "rate_limited" && err.body?.error?.retry_after)
        text += ` (retry after ${err.body.error.retry_after} s)`;
      error.textContent = text;
      button.disabled = false;
    }
  }

  return { el: form, focus: () => email.focus() };
}

export function refusalView(app, err) {
  const email = app.session?.user?.email || "This account";
  return {
    el: h(
      "section",
      { class: "panel refusal", id: "refusal" },
      h("h1", {}, "Administrators only"),
      h("p", {}, `${email} is not an administrator, so slicegate refuses the dashboard's requests.`),
      h("p", { class: "muted" }, `The API answered ${err.status || 403} ${err.code}: ${err.message}`),
      h("p", {}, "Ask an administrator to promote your account, or sign in with another one."),
      h("button", { onclick: () => app.signOut() }, "Sign out"),
    ),
  };
}
