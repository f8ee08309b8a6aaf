// slicectl: the admin command line over slicegate's NATS API.
//
//   slicectl ping | info | stats          discover running instances (NATS micro protocol)
//   slicectl login --email E              prints a session token (password from stdin or tty)
//   slicectl whoami | logout              use the session of --session / SLICEGATE_SESSION
//
// As an admin (--session of an admin):
//   slicectl slices list [--status S] | get ID
//            | create --count N [--idempotency-key K] [--wait [--wait-timeout 120s]]
//            | suspend ID | resume ID | destroy ID | assign --user U [ID]
//                                         the slice pool
//   slicectl users list [--status S] [--waiting] [--admins] [--email-prefix P] [--limit N]
//            [--cursor C] [--oldest] | get ID | promote ID | demote ID | revoke-sessions ID
//                                         accounts
//   slicectl telemetry slice ID | server [--since 24h] [--bucket 5m]
//                                         aggregated samples, as a table and sparklines
//   slicectl overview                     slices, health, waiting queue, users, server, alerts
//   slicectl top [--interval 2s] [--sort status|memory|cpu|disk|id|user]
//                                         a live full-screen view (needs a terminal)
//   slicectl dead-letters list [--after ID] [--limit N] [--all] | show ID | replay ID [--force]
//                                         rejected inbound events; publish one again
//
// Anyone who may subscribe:
//   slicectl events [--since 1h] [--count N]
//                                         slice and user-slice events as they happen
//
// Human-readable output by default, the raw JSON replies with --json.
// Exit codes: 0 success, 1 error reply, 2 transport failure (no connection, no responders,
// timeout), 3 `slices create --wait` gave up before the slices were ready, 64 usage error.

#include <cstdlib>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bridge/subjects.hpp"
#include "cli/account.hpp"
#include "cli/dead_letters.hpp"
#include "cli/events.hpp"
#include "cli/options.hpp"
#include "cli/overview.hpp"
#include "cli/slices.hpp"
#include "cli/telemetry.hpp"
#include "cli/top.hpp"
#include "cli/users.hpp"
#include "common/database_url.hpp"

using namespace slicegate::cli;

int main(int argc, char** argv) {
  options o;
  // The conventional variable counts too, below the SLICEGATE_ one CLI11 reads.
  if (auto url = std::getenv("NATS_URL"))
    o.nats_url = url;
  CLI::App app{"slicectl: administer slicegate over NATS"};
  // Global options may also follow the command: `slicectl users list --json`.
  app.fallthrough();
  // The default may come from NATS_URL: shown with its password as `***`.
  app.add_option("--nats-url", o.nats_url, "NATS server URL")
    ->envname("SLICEGATE_NATS_URL")
    ->default_str(slicegate::redact_url(o.nats_url));
  // The daemon's NATS settings, under the same names; secrets never show in --help.
  app.add_option("--nats-user", o.nats.user, "NATS user (with --nats-password)")
    ->envname("SLICEGATE_NATS_USER");
  app.add_option("--nats-password", o.nats.password,
                 "NATS password (best from the environment: a flag shows in the process list)")
    ->envname("SLICEGATE_NATS_PASSWORD");
  app.add_option("--nats-token", o.nats.token, "NATS token")->envname("SLICEGATE_NATS_TOKEN");
  app.add_option("--nats-nkey-seed", o.nats.nkey_seed_file,
                 "File holding a NATS NKey user seed (SU...)")
    ->envname("SLICEGATE_NATS_NKEY_SEED");
  app.add_option("--nats-creds", o.nats.creds_file, "NATS .creds file (user JWT and NKey seed)")
    ->envname("SLICEGATE_NATS_CREDS");
  app.add_flag("--nats-tls", o.nats.tls,
               "Require TLS to NATS (trusting the system's CAs unless --nats-tls-ca is set)")
    ->envname("SLICEGATE_NATS_TLS");
  app.add_option("--nats-tls-ca", o.nats.tls_ca,
                 "CA certificates (PEM) NATS' certificate must chain to")
    ->envname("SLICEGATE_NATS_TLS_CA");
  app.add_option("--nats-tls-cert", o.nats.tls_cert,
                 "Client certificate (PEM) for NATS, with --nats-tls-key")
    ->envname("SLICEGATE_NATS_TLS_CERT");
  app.add_option("--nats-tls-key", o.nats.tls_key, "Private key (PEM) of --nats-tls-cert")
    ->envname("SLICEGATE_NATS_TLS_KEY");
  app.add_option("--subject-prefix", o.subject_prefix, "First token of every subject")
    ->envname("SLICEGATE_SUBJECT_PREFIX")
    ->capture_default_str();
  app.add_option("--service-name", o.service_name, "Service name in the micro protocol")
    ->envname("SLICEGATE_SERVICE_NAME")
    ->capture_default_str();
  app.add_option("--session", o.session, "Session token (from slicectl login)")
    ->envname("SLICEGATE_SESSION");
  app.add_option("--timeout", o.timeout, "How long to wait for replies")->capture_default_str();
  app.add_flag("--json", o.json, "Print the raw JSON replies");
  app.require_subcommand(1);

  auto ping = app.add_subcommand("ping", "List running slicegate instances");
  auto info = app.add_subcommand("info", "Show each instance's endpoints");
  auto stats = app.add_subcommand("stats", "Show each instance's request counts and counters");
  auto login_cmd = app.add_subcommand(
    "login", "Open a session; prints its token (password read from stdin or the terminal)");
  login_cmd->add_option("--email", o.email, "Account e-mail")->required();
  auto whoami_cmd = app.add_subcommand("whoami", "Show the account behind --session");
  auto logout_cmd = app.add_subcommand("logout", "Revoke the session given by --session");

  auto slices_cmd = app.add_subcommand("slices", "The slice pool (needs an admin's --session)");
  slices_cmd->require_subcommand(1);
  auto slices_list = slices_cmd->add_subcommand("list", "List slices");
  slices_list->add_option("--status", o.status, "Only slices in this status");
  auto slices_get = slices_cmd->add_subcommand("get", "Show a slice and its latest telemetry");
  auto slices_create = slices_cmd->add_subcommand("create", "Provision new slices");
  slices_create->add_option("--count", o.count, "How many (1-1000)")
    ->required()
    ->check(CLI::Range(1, 1000));
  slices_create
    ->add_option("--idempotency-key", o.idempotency_key,
                 "A key of 1-200 bytes: a repeat with the same key within 24 hours "
                 "creates nothing and shows the slices the first one created")
    ->check(CLI::Validator(
      [](std::string& key) { return key.empty() ? std::string{"must not be empty"} : ""; },
      "KEY"));
  slices_create->add_flag("--wait", o.wait,
                          "Wait until the new slices are ready (no longer destroying), then "
                          "show them");
  slices_create
    ->add_option("--wait-timeout", o.wait_timeout,
                 "How long --wait waits (exit code 3 when it gives up)")
    ->capture_default_str();
  auto slices_suspend = slices_cmd->add_subcommand("suspend", "Stop a slice, keeping its data");
  auto slices_resume = slices_cmd->add_subcommand("resume", "Start a suspended slice again");
  auto slices_destroy
    = slices_cmd->add_subcommand("destroy", "Scrub a slice and return it to the pool");
  for (auto cmd : {slices_get, slices_suspend, slices_resume, slices_destroy})
    cmd->add_option("slice_id", o.slice_id, "Slice id")->required()->check(CLI::PositiveNumber);
  for (auto cmd : {slices_suspend, slices_resume, slices_destroy})
    cmd->add_option("--reason", o.reason, "Why (recorded with the transition)");
  auto slices_assign = slices_cmd->add_subcommand(
    "assign", "Give a user a slice (the next free one by default)");
  slices_assign->add_option("--user", o.user_id, "User id")
    ->required()
    ->check(CLI::PositiveNumber);
  slices_assign->add_option("slice_id", o.slice_id, "Slice id")->check(CLI::PositiveNumber);

  auto users_cmd = app.add_subcommand("users", "Accounts (needs an admin's --session)");
  users_cmd->require_subcommand(1);
  auto users_list = users_cmd->add_subcommand(
    "list", "List users, newest first, one page at a time (the last line says how to get the "
            "next)");
  users_list->add_option("--status", o.status,
                         "Only users in this subscription status (trial, active, past_due, "
                         "cancelled)");
  users_list->add_flag("--waiting", o.waiting, "Only users waiting for a slice");
  users_list->add_flag("--admins", o.admins, "Only admins");
  users_list->add_option("--email-prefix", o.email_prefix, "Only e-mails starting with this");
  users_list->add_option("--limit", o.limit, "Users per page (1-1000, default 50)")
    ->check(CLI::Range(1, 1000));
  users_list->add_option("--cursor", o.cursor, "Where the previous page ended");
  users_list->add_flag("--oldest", o.oldest, "Oldest first");
  auto users_get = users_cmd->add_subcommand(
    "get", "Show a user, their slice or place in the queue, sessions and billing events");
  auto users_promote = users_cmd->add_subcommand("promote", "Make a user an admin");
  auto users_demote = users_cmd->add_subcommand("demote", "Take a user's admin rights away");
  auto users_revoke = users_cmd->add_subcommand("revoke-sessions",
                                                "End every session of a user (log them out)");
  for (auto cmd : {users_get, users_promote, users_demote, users_revoke})
    cmd->add_option("user_id", o.user_id, "User id")->required()->check(CLI::PositiveNumber);

  auto telemetry_cmd = app.add_subcommand(
    "telemetry", "Samples over a window in buckets (needs an admin's --session)");
  telemetry_cmd->require_subcommand(1);
  auto telemetry_slice = telemetry_cmd->add_subcommand("slice", "One slice's samples");
  telemetry_slice->add_option("slice_id", o.slice_id, "Slice id")
    ->required()
    ->check(CLI::PositiveNumber);
  auto telemetry_server = telemetry_cmd->add_subcommand("server", "The server's samples");
  for (auto cmd : {telemetry_slice, telemetry_server}) {
    cmd->add_option("--since", o.since, "How far back (a duration: 30m, 24h, 7d)")
      ->capture_default_str();
    cmd->add_option("--bucket", o.bucket, "Bucket size (a duration, at least 1s)")
      ->capture_default_str();
  }

  auto overview_cmd = app.add_subcommand(
    "overview", "Slices, health, waiting queue, users, server and recent alerts at a glance "
                "(needs an admin's --session)");

  auto top_cmd = app.add_subcommand(
    "top", "A live full-screen view of the server and every slice (needs a terminal and an "
           "admin's --session). Keys: q quit, s next sort key, m/c/d/i/u/t sort by memory, "
           "cpu, disk, id, user, status, r refresh, arrows and PgUp/PgDn scroll");
  top_cmd->add_option("--interval", o.interval, "Time between refreshes")
    ->capture_default_str();
  top_cmd->add_option("--sort", o.sort, "Initial sort key")
    ->check(CLI::IsMember({"status", "memory", "cpu", "disk", "id", "user"}))
    ->capture_default_str();

  auto events_cmd = app.add_subcommand(
    "events",
    "Follow slice events (<prefix>.slice.>) and user-slice events (<prefix>.user.slice.>), "
    "one line each, until Ctrl-C. With --json each line is "
    R"({"subject": "<subject>", "event": <the event's JSON body>}.)");
  events_cmd->add_option("--since", o.events_since,
                         "First replay what stream GATEWAY_SLICES kept for this long "
                         "(a duration: 10m, 1h), then follow");
  events_cmd->add_option("--count", o.events_count, "Leave after this many events");

  auto dead_cmd = app.add_subcommand(
    "dead-letters", "Inbound events slicegate rejected, with their original body (needs an "
                    "admin's --session)");
  dead_cmd->require_subcommand(1);
  auto dead_list = dead_cmd->add_subcommand(
    "list", "List dead letters not yet replayed, oldest first (the last line says how to get "
            "the next page)");
  dead_list->add_option("--after", o.after, "Only ids above this")->check(CLI::NonNegativeNumber);
  dead_list->add_option("--limit", o.limit, "Dead letters per page (1-500, default 50)")
    ->check(CLI::Range(1, 500));
  dead_list->add_flag("--all", o.include_replayed, "Replayed ones too");
  auto dead_show = dead_cmd->add_subcommand("show", "Show a dead letter with its body");
  auto dead_replay = dead_cmd->add_subcommand(
    "replay", "Publish a dead letter's body again on its subject, to be processed anew");
  dead_replay->add_flag("--force", o.force, "Even if it was replayed before");
  for (auto cmd : {dead_show, dead_replay})
    cmd->add_option("id", o.dead_letter_id, "Dead letter id")
      ->required()
      ->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_code::ok : exit_code::usage;
  }
  try {
    namespace micro = slicegate::subjects::micro_verb;
    if (ping->parsed())
      return discover(o, micro::ping);
    if (info->parsed())
      return discover(o, micro::info);
    if (stats->parsed())
      return discover(o, micro::stats);
    if (login_cmd->parsed())
      return login(o);
    if (whoami_cmd->parsed())
      return whoami(o);
    if (logout_cmd->parsed())
      return logout(o);
    if (slices_cmd->parsed())
      return slices(o, slices_cmd->get_subcommands().front()->get_name());
    if (users_cmd->parsed())
      return users(o, users_cmd->get_subcommands().front()->get_name());
    if (telemetry_cmd->parsed())
      return telemetry(o, telemetry_cmd->get_subcommands().front()->get_name());
    if (overview_cmd->parsed())
      return overview(o);
    if (top_cmd->parsed())
      return top(o);
    if (events_cmd->parsed())
      return events(o);
    if (dead_cmd->parsed())
      return dead_letters(o, dead_cmd->get_subcommands().front()->get_name());
  } catch (const failure& f) {
    std::cerr << "slicectl: " << f.message << '\n';
    return f.code;
  } catch (const nlohmann::json::exception& e) {
    // A reply of an unexpected shape, say from another service's responder.
    std::cerr << "slicectl: unexpected reply: " << e.what() << '\n';
    return exit_code::error_reply;
  }
  return exit_code::usage;
}
