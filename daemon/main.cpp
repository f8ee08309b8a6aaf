// slicegate: the control plane daemon. `serve` (default) runs it; `migrate` applies the schema
// and exits; `create-admin` makes the first admin without hand-written SQL.

#include <iostream>

#include <CLI/CLI.hpp>

#include "app/daemon.hpp"
#include "app/logging.hpp"
#include "app/settings.hpp"

int main(int argc, char** argv) {
  slicegate::settings cfg;
  CLI::App app{"slicegate: control plane of the slice SaaS (users, sessions, slices, "
               "telemetry) on NATS and PostgreSQL"};
  app.fallthrough(true);
  app.require_subcommand(0, 1);
  slicegate::add_settings(app, cfg);
  auto serve = app.add_subcommand("serve", "Run the daemon (default)");
  auto migrate = app.add_subcommand("migrate", "Apply pending schema migrations and exit");
  auto create_admin = app.add_subcommand(
    "create-admin",
    "Create an admin account, or make an existing account admin when the password given is "
    "its password");
  std::string email;
  bool password_stdin = false;
  bool reset_password = false;
  create_admin->add_option("--email", email, "E-mail of the admin")->required();
  create_admin->add_flag("--password-stdin", password_stdin,
                         "Read the password from standard input instead of the terminal");
  create_admin->add_flag("--reset-password", reset_password,
                         "Take over an existing account whose password is not the one given: "
                         "set it, end every session of the account, and make it admin");
  CLI11_PARSE(app, argc, argv);
  slicegate::setup_logging(cfg.log_level, cfg.log_json);
  if (*migrate)
    return slicegate::run_migrate(cfg);
  if (*create_admin)
    return slicegate::run_create_admin(cfg, email, password_stdin, reset_password);
  (void)serve;
  return slicegate::run_serve(cfg);
}
