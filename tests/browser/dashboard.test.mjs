// The dashboard in a real browser (Debian's Chromium, headless, driven by puppeteer-core)
// against the real daemon on throwaway PostgreSQL and nats-server: sign in, the overview,
// slices appearing live, a slice's chart, a suspension through the confirmation, the users
// page, and a non-admin's refusal. Screenshots of the main pages go to SCREENSHOT_DIR.
//
// Environment: SLICEGATE_BINARY, SLICECTL_BINARY (default SOURCE_DIR/build/…), SOURCE_DIR
// (default: this repository), DASHBOARD_DIST (default SOURCE_DIR/dashboard/dist), CHROMIUM
// (default /usr/bin/chromium), SCREENSHOT_DIR (default: a new temporary directory).
// DASHBOARD_SERVER=static serves the page from the test itself instead of the daemon's HTTP
// listener (for a daemon without --http-listen); the default, `daemon`, is the real thing.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, JSONCodec } from "nats";
import puppeteer from "puppeteer-core";

const here = dirname(fileURLToPath(import.meta.url));
const source = resolve(process.env.SOURCE_DIR || join(here, "..", ".."));
const slicegate = process.env.SLICEGATE_BINARY || join(source, "build", "slicegate");
const dist = resolve(process.env.DASHBOARD_DIST || join(source, "dashboard", "dist"));
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
const serveMode = process.env.DASHBOARD_SERVER || "daemon";
const screenshotDir = process.env.SCREENSHOT_DIR || mkdtempSync(join(tmpdir(), "dashboard-shots-"));
mkdirSync(screenshotDir, { recursive: true });

const adminEmail = "admin@example.com";
const adminPassword = "admin-password-1";
const userEmail = "plain@example.com";
const userPassword = "password-1";
const json = JSONCodec();

// -- small helpers --------------------------------------------------------------------------

class Failure extends Error {}

function fail(message) {
  throw new Failure(message);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Polls `fn` until it returns a truthy value; fails with `what` after `ms`.
async function eventually(what, fn, ms = 20000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  fail(`${what} did not happen within ${ms / 1000} s${last ? ` (last error: ${last.message})` : ""}`);
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createNetServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  if (r.status !== 0)
    fail(`${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || "").trim().slice(-2000)}`);
  return r.stdout;
}

function readEnv(path) {
  const env = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^(?:export )?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2].replace(/^(['"])(.*)\1$/, "$2");
  }
  return env;
}

function psql() {
  for (const p of ["/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql"]) if (existsSync(p)) return p;
  return "psql";
}

// -- what the test sets up, and takes down whatever happens ---------------------------------

const state = { dir: null, daemon: null, daemonLog: null, browser: null, nc: null, staticServer: null };

async function cleanup(failed) {
  if (state.browser) await state.browser.close().catch(() => {});
  if (state.nc) await state.nc.close().catch(() => {});
  if (state.staticServer) state.staticServer.close();
  if (state.daemon && state.daemon.exitCode === null && state.daemon.signalCode === null) {
    state.daemon.kill("SIGTERM");
    const exited = await Promise.race([new Promise((r) => state.daemon.once("exit", () => r(true))), sleep(15000).then(() => false)]);
    if (!exited) {
      console.error("daemon still runs 15 s after SIGTERM; killing it");
      state.daemon.kill("SIGKILL");
    }
  }
  if (state.dir) {
    // After a failure the logs stay (servers.sh stop with KEEP=1 keeps the directory).
    spawnSync("bash", [join(source, "scripts", "servers.sh"), "stop", state.dir], {
      stdio: "ignore",
      env: { ...process.env, KEEP: failed ? "1" : "0" },
    });
    if (failed) console.log(`logs kept in ${state.dir}`);
    else rmSync(state.dir, { recursive: true, force: true });
  }
}

/// Serves dist/ plus a config.json, as the daemon would (DASHBOARD_SERVER=static).
async function serveStatic(port, config) {
  const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".json": "application/json" };
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/config.json") {
      res.writeHead(200, { "content-type": types[".json"] });
      return res.end(JSON.stringify(config));
    }
    const file = join(dist, path === "/" ? "index.html" : path);
    if (!file.startsWith(dist) || !existsSync(file)) {
      res.writeHead(404);
      return res.end("not found");
    }
    res.writeHead(200, { "content-type": types[extname(file)] || "application/octet-stream" });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  state.staticServer = server;
}

// -- the steps ------------------------------------------------------------------------------

const results = [];
let page;
const pageErrors = [];

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${err instanceof Failure ? err.message : err.stack || err}`);
    if (page) {
      const shot = join(screenshotDir, "failure.png");
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      const text = await page.evaluate(() => document.body.innerText).catch(() => "");
      console.log(`     the page said: ${text.replace(/\s+/g, " ").slice(0, 600)}`);
      console.log(`     screenshot: ${shot}`);
    }
    throw err;
  }
}

const shots = [];
async function screenshot(name) {
  await sleep(300); // let the last batched render land
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  shots.push(path);
}

async function request(subject, body, timeout = 30000) {
  const msg = await state.nc.request(subject, json.encode(body), { timeout });
  const reply = json.decode(msg.data);
  if (reply.error) fail(`${subject}: ${reply.error.code}: ${reply.error.message}`);
  return reply;
}

/// Text of the element `selector`, or null.
const textOf = (selector) => page.$eval(selector, (el) => el.textContent.trim()).catch(() => null);

async function signIn(email, password) {
  await page.waitForSelector("#login-form", { timeout: 20000 });
  await page.type("#login-form input[name=email]", email);
  await page.type("#login-form input[name=password]", password);
  await page.click("#login-form button[type=submit]");
}

async function main() {
  if (!existsSync(join(dist, "index.html")))
    fail(`no built dashboard in ${dist}: run 'npm ci && npm run build' in dashboard/`);
  if (!existsSync(chromium)) fail(`no Chromium at ${chromium} (apt-get install chromium, or set CHROMIUM)`);
  if (!existsSync(slicegate)) fail(`no slicegate binary at ${slicegate} (set SLICEGATE_BINARY)`);

  let env;
  let base;
  await step("throwaway servers and the daemon start", async () => {
    state.dir = mkdtempSync("/tmp/sgb-"); // short: PostgreSQL's socket lives in it
    run("bash", [join(source, "scripts", "servers.sh"), "start", state.dir], {
      env: { ...process.env, PG_PORT: "", NATS_PORT: "", NATS_MONITOR_PORT: "", NATS_WS_PORT: "" },
    });
    env = readEnv(join(state.dir, "env"));
    if (!env.NATS_WS_URL) fail("servers.sh wrote no NATS_WS_URL");
    run(slicegate, ["create-admin", "--password-stdin", "--bcrypt-cost=4", "--email", adminEmail, `--database-url=${env.DATABASE_URL}`], {
      input: `${adminPassword}\n`,
    });
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}/`;
    const args = [
      "serve",
      `--database-url=${env.DATABASE_URL}`,
      `--admin-database-url=${env.ADMIN_DATABASE_URL}`,
      `--slice-database-url=${env.SLICE_DATABASE_URL}`,
      `--nats-url=${env.NATS_URL}`,
      "--bcrypt-cost=4",
      "--runtime=external",
      `--data-root=${join(state.dir, "slices")}`,
      "--health-interval=1s",
      "--server-interval=2s",
    ];
    if (serveMode === "daemon") args.push(`--http-listen=127.0.0.1:${httpPort}`, `--http-root=${dist}`, `--dashboard-nats-url=${env.NATS_WS_URL}`);
    else await serveStatic(httpPort, { nats_ws_url: env.NATS_WS_URL, subject_prefix: "gateway" });
    state.daemonLog = join(state.dir, "daemon.log");
    const log = openSync(state.daemonLog, "a");
    state.daemon = spawn(slicegate, args, { stdio: ["ignore", log, log] });
    state.nc = await connect({ servers: env.NATS_URL });
    await eventually("the daemon answering on NATS", async () => {
      if (state.daemon.exitCode !== null)
        fail(`the daemon exited with ${state.daemon.exitCode}: ${readFileSync(state.daemonLog, "utf8").slice(-1500)}`);
      const msg = await state.nc.request("gateway.session.resolve", json.encode({ session_id: "warm-up" }), { timeout: 2000 });
      return msg.data.length > 0;
    }, 30000);
    if (serveMode === "daemon") {
      const config = await eventually("the daemon serving config.json", async () => {
        if (state.daemon.exitCode !== null) fail(`the daemon exited with ${state.daemon.exitCode}`);
        const r = await fetch(new URL("config.json", base));
        return r.ok && (await r.json());
      }, 20000);
      if (config.nats_ws_url !== env.NATS_WS_URL) fail(`config.json names ${config.nats_ws_url}, not ${env.NATS_WS_URL}`);
      if ((config.subject_prefix || "gateway") !== "gateway") fail(`config.json names prefix ${config.subject_prefix}`);
      const index = await fetch(base);
      if (!index.ok || !(await index.text()).includes("app.js")) fail(`the daemon does not serve the page at ${base}`);
    }
  });

  await step("an admin signs in and sees the overview", async () => {
    state.browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
      defaultViewport: { width: 1400, height: 900 },
    });
    page = await state.browser.newPage();
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await page.goto(base, { waitUntil: "load" });
    await signIn(adminEmail, adminPassword);
    await page.waitForSelector("#overview #card-slices", { timeout: 20000 });
    const who = await textOf("#who");
    if (who !== adminEmail) fail(`the header names ${who}, not ${adminEmail}`);
    // The admin account waits for a slice: the overview shows the queue.
    await eventually("the waiting queue showing the admin", async () => (await textOf("#card-waiting .stat .value")) === "1");
    await eventually("the link badge saying live", async () => (await textOf("#link")) === "live");
    // A host sample arrives within the server interval.
    await eventually("a host sample on the overview", async () => (await textOf("#card-server"))?.includes("RAM"), 15000);
    await screenshot("overview");
  });

  let adminSession;
  let slices;
  await step("provisioned slices appear in the table without a reload", async () => {
    await page.click('nav a[data-route="slices"]');
    await page.waitForSelector("#slices table");
    await eventually("the empty table", async () => (await textOf("#slices tbody"))?.includes("No slices yet"));
    await page.evaluate(() => (window.__notReloaded = true));
    adminSession = (await request("gateway.auth.login", { email: adminEmail, password: adminPassword })).session.id;
    const created = await request("gateway.admin.slices.create", { session_id: adminSession, count: 2 });
    slices = created.slices.map((x) => x.id);
    await eventually("both slices in the table", async () => {
      const ids = await page.$$eval("#slices tbody tr[data-slice-id]", (rows) => rows.map((r) => Number(r.dataset.sliceId)));
      return slices.every((id) => ids.includes(id));
    });
    // The admin, who was waiting, gets one of them: the row turns assigned, live.
    await eventually("a slice assigned to the admin in the table", async () => {
      const rows = await page.$$eval("#slices tbody tr[data-slice-id]", (rows) => rows.map((r) => r.innerText));
      return rows.some((t) => t.includes("assigned") && t.includes(adminEmail));
    });
    if (!(await page.evaluate(() => window.__notReloaded === true))) fail("the page reloaded");
    await eventually("health checks in the table", async () => {
      const t = await textOf("#slices tbody");
      return t && !t.includes("never");
    });
    await screenshot("slices");
  });

  let sliceId;
  await step("a slice's page shows its telemetry chart", async () => {
    const list = await request("gateway.admin.slices.list", { session_id: adminSession, telemetry: true });
    sliceId = list.slices.find((x) => x.status === "assigned").id;
    // An hour of samples, one a minute, so that the chart has a shape.
    run(psql(), [env.DATABASE_URL, "-v", "ON_ERROR_STOP=1", "-q", "-c",
      `INSERT INTO gateway.telemetry (slice_id, "timestamp", rss_bytes, wa_state, cpu_percent, disk_bytes)
       SELECT ${sliceId}, now() - make_interval(mins => m), (180 + 40 * sin(m / 9.0)) * 1048576,
              CASE WHEN m % 20 = 0 THEN 'DISCONNECTED' ELSE 'CONNECTED' END,
              2 + 1.5 * cos(m / 7.0), 52428800 + m * 10000
       FROM generate_series(1, 59) AS m`]);
    await page.click(`#slices tbody tr[data-slice-id="${sliceId}"] a`);
    await page.waitForSelector(`#slice-page[data-slice-id="${sliceId}"]`);
    await eventually("the memory chart with a line", async () => (await page.$$("#chart-memory polyline.series")).length >= 1);
    const summary = await textOf("#chart-summary");
    const points = Number(/^(\d+) points/.exec(summary || "")?.[1] || 0);
    if (points < 30) fail(`the chart shows ${summary}; expected the seeded hour`);
    await eventually("the slice's user on the page", async () => (await textOf("#slice-user"))?.includes(adminEmail));
    await page.click('#slice-page .ranges button[data-range="24h"]');
    await eventually("the 24 h chart", async () => /of 10 min/.test((await textOf("#chart-summary")) || ""));
    await page.click('#slice-page .ranges button[data-range="1h"]');
    await eventually("the 1 h chart again", async () => /of 1 min/.test((await textOf("#chart-summary")) || ""));
    await screenshot("slice");
  });

  await step("suspending the slice through the confirmation", async () => {
    await page.click("#action-suspend");
    await page.waitForSelector("dialog#confirm[open]");
    // Cancel first: nothing changes.
    await page.click('dialog#confirm button[value="cancel"]');
    await eventually("the dialog closing", async () => !(await page.$("dialog#confirm[open]")));
    const still = await request("gateway.admin.slices.get", { session_id: adminSession, slice_id: sliceId });
    if (still.slice.status !== "assigned") fail(`cancel left the slice ${still.slice.status}`);
    await page.click("#action-suspend");
    await page.waitForSelector("dialog#confirm[open]");
    await screenshot("confirm");
    await page.type("#confirm-reason", "browser test");
    await page.click("#confirm-ok");
    await eventually("the status turning suspended on the page", async () => (await textOf('#slice-facts [data-field="status"]')) === "suspended");
    await eventually("the transition in the status history", async () => (await textOf("#slice-status-log"))?.includes("suspended"));
    await eventually("the resume action offered", async () => !!(await page.$("#action-resume")));
    const now = await request("gateway.admin.slices.get", { session_id: adminSession, slice_id: sliceId });
    if (now.slice.status !== "suspended") fail(`the API says the slice is ${now.slice.status}`);
    await screenshot("slice-suspended");
  });

  await step("the users page lists and searches users", async () => {
    await request("gateway.auth.signup", { email: userEmail, password: userPassword });
    await page.click('nav a[data-route="users"]');
    await eventually("both users listed", async () => (await page.$$("#users tbody tr[data-user-id]")).length === 2);
    await page.type("#user-search", "plain");
    await eventually("the search narrowing to one", async () => {
      const emails = await page.$$eval("#users tbody tr[data-user-id]", (rows) => rows.map((r) => r.dataset.email));
      return emails.length === 1 && emails[0] === userEmail;
    });
    await page.click("#users tbody tr[data-user-id] td:nth-child(2) a");
    await eventually("the user's details", async () => (await textOf("#users tr.detail"))?.includes("Live sessions"));
    await page.click("#user-search", { clickCount: 3 });
    await page.keyboard.press("Backspace");
    await eventually("both users again", async () => (await page.$$("#users tbody tr[data-user-id]")).length === 2);
    await screenshot("users");
  });

  await step("a non-admin is refused", async () => {
    await page.click("#sign-out");
    await page.waitForSelector("#login-form");
    if (await page.evaluate(() => sessionStorage.getItem("slicegate.session"))) fail("the session outlived the sign-out");
    await signIn(userEmail, userPassword);
    await page.waitForSelector("#refusal", { timeout: 20000 });
    const text = await textOf("#refusal");
    if (!text.includes("not an administrator") || !text.includes("forbidden")) fail(`the refusal reads: ${text}`);
    if (await page.$eval("#nav", (n) => !n.hidden)) fail("a non-admin sees the navigation");
    await screenshot("refusal");
  });

  await step("no script error on the page", async () => {
    if (pageErrors.length) fail(pageErrors.join("; "));
  });
}

let code = 0;
try {
  await main();
} catch (err) {
  code = 1;
  // A failed step has said why already; anything else says it here.
  if (!results.some((r) => !r.ok)) console.log(`FAIL ${err instanceof Failure ? err.message : err.stack || err}`);
  if (state.daemonLog && existsSync(state.daemonLog))
    console.log(`daemon log (tail):\n${readFileSync(state.daemonLog, "utf8").split("\n").slice(-25).join("\n")}`);
} finally {
  await cleanup(code !== 0);
}
for (const s of shots) console.log(`screenshot: ${s}`);
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed || code; // a failure before the first step counts too
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(code);
