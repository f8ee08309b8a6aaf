#define BOOST_TEST_MODULE nats_permissions
#include <boost/test/unit_test.hpp>

// The NATS users of deploy/nats.conf against a real nats-server run from that very file (only
// its store directory and its monitoring and WebSocket ports are replaced, the client port
// comes from the command line, the passwords from the environment): every caller may publish
// and subscribe what its row of the README's table says, and the server refuses the rest - a
// refused message never reaches a subscriber that may read it, and the client hears
// "Permissions Violation". Then the real daemon and slicectl with credentials: the daemon as
// user `slicegate` serves the web app, the signup service and an admin; with TLS (a throwaway
// CA, server and client certificate made with openssl) and a client certificate; and never
// writes its password to its log or to --help.

#include <chrono>
#include <cctype>
#include <condition_variable>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <nats/nats.h>
#include <nlohmann/json.hpp>

#include "actors/hasher.hpp"
#include "bridge/nats_options.hpp"
#include "tests/support/daemon_fixture.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/nats_client.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::vector<std::string> nats_users{"slicegate", "webapp", "signup",
                                          "billing",   "admin",  "dashboard"};

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path};
  out << text;
}

std::string random_token(const std::string& prefix) {
  static std::mt19937_64 random{std::random_device{}()};
  std::ostringstream out;
  out << prefix << std::hex << random() << random();
  return out.str();
}

/// The environment variable that holds `user`'s password: NATS_<USER>_PASSWORD.
std::string password_variable(const std::string& user) {
  std::string result = "NATS_";
  for (char c : user)
    result += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result + "_PASSWORD";
}

/// Replaces the one occurrence of `from` in `text`; fails the test if there is not exactly one.
void replace_once(std::string& text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  BOOST_REQUIRE_MESSAGE(pos != std::string::npos, "deploy/nats.conf has no '" << from << "'");
  BOOST_REQUIRE_MESSAGE(text.find(from, pos + 1) == std::string::npos,
                        "deploy/nats.conf has '" << from << "' twice");
  text.replace(pos, from.size(), to);
}

/// nats-server running deploy/nats.conf, with random passwords; `extra` is appended to the
/// configuration (a `tls` block).
class authorized_nats {
 public:
  explicit authorized_nats(const std::string& extra = "") {
    auto conf = read_file(std::string{SLICEGATE_SOURCE_DIR} + "/deploy/nats.conf");
    BOOST_REQUIRE(conf.find("authorization {") != std::string::npos);
    auto authorization = conf.substr(conf.find("authorization {"));
    port = test::free_port();
    replace_once(conf, "store_dir: /data", "store_dir: " + dir / "js");
    replace_once(conf, "http_port: 8222", "http_port: " + std::to_string(test::free_port()));
    replace_once(conf, "port: 8443", "port: " + std::to_string(test::free_port()));
    // The users and their permissions are the file's, to the byte.
    BOOST_REQUIRE_EQUAL(conf.substr(conf.find("authorization {")), authorization);
    write_file(dir / "nats.conf", conf + extra);
    for (auto& user : nats_users)
      passwords[user] = random_token(user + "-pw-");
    pid_ = fork();
    BOOST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      auto fd = open((dir / "nats.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      for (auto& [user, password] : passwords)
        setenv(password_variable(user).c_str(), password.c_str(), 1);
      auto port_text = std::to_string(port);
      auto conf_path = dir / "nats.conf";
      execlp("nats-server", "nats-server", "-c", conf_path.c_str(), "-a", "127.0.0.1", "-p",
             port_text.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    auto ready = test::eventually(
      [this] { return read_file(dir / "nats.log").find("Server is ready") != std::string::npos; },
      20s);
    BOOST_REQUIRE_MESSAGE(ready, "nats-server did not start: " << read_file(dir / "nats.log"));
  }

  ~authorized_nats() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }

  authorized_nats(const authorized_nats&) = delete;
  authorized_nats& operator=(const authorized_nats&) = delete;

  std::string url(const std::string& scheme = "nats") const {
    return scheme + "://127.0.0.1:" + std::to_string(port);
  }

  /// `url()` with `user:password@`.
  std::string url_of(const std::string& user) const {
    return "nats://" + user + ":" + passwords.at(user) + "@127.0.0.1:" + std::to_string(port);
  }

  test::temp_dir dir;
  int port = 0;
  std::map<std::string, std::string> passwords;

 private:
  pid_t pid_ = -1;
};

/// One NATS client as a caller would be, that records the errors the server reports.
class peer {
 public:
  peer(const std::string& url, nats_credentials credentials,
       const std::string& inbox_prefix = "") {
    bridge::prepared_credentials prepared;
    auto problem = bridge::prepare(credentials, url, prepared);
    BOOST_REQUIRE_MESSAGE(problem.empty(), problem);
    natsOptions* opts = nullptr;
    natsOptions_Create(&opts);
    natsOptions_SetURL(opts, url.c_str());
    natsOptions_SetMaxReconnect(opts, 0);
    natsOptions_SetErrorHandler(opts, on_error, this);
    if (!inbox_prefix.empty())
      natsOptions_SetCustomInboxPrefix(opts, inbox_prefix.c_str());
    problem = bridge::apply(opts, prepared);
    BOOST_REQUIRE_MESSAGE(problem.empty(), problem);
    status = natsConnection_Connect(&nc_, opts);
    if (status != NATS_OK && nats_GetLastError(nullptr))
      connect_error = nats_GetLastError(nullptr);
    natsOptions_Destroy(opts);
  }

  /// A peer that must connect as `user` of `server`.
  peer(const authorized_nats& server, const std::string& user,
       const std::string& inbox_prefix = "")
    : peer(server.url(), nats_credentials{user, server.passwords.at(user)}, inbox_prefix) {
    BOOST_REQUIRE_MESSAGE(status == NATS_OK, user << " cannot connect: "
                                                   << natsStatus_GetText(status) << " "
                                                   << connect_error);
  }

  ~peer() {
    for (auto sub : subs_)
      natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc_);
  }

  peer(const peer&) = delete;
  peer& operator=(const peer&) = delete;

  void publish(const std::string& subject, const std::string& body,
               const std::string& reply = "") {
    if (reply.empty())
      natsConnection_Publish(nc_, subject.c_str(), body.data(), static_cast<int>(body.size()));
    else
      natsConnection_PublishRequest(nc_, subject.c_str(), reply.c_str(), body.data(),
                                    static_cast<int>(body.size()));
    natsConnection_FlushTimeout(nc_, 2000);
  }

  natsSubscription* subscribe(const std::string& subject) {
    natsSubscription* sub = nullptr;
    BOOST_REQUIRE_EQUAL(natsConnection_SubscribeSync(&sub, nc_, subject.c_str()), NATS_OK);
    subs_.push_back(sub);
    natsConnection_FlushTimeout(nc_, 2000);
    return sub;
  }

  /// The next message of `sub` within `timeout`: its body and reply subject.
  std::optional<std::pair<std::string, std::string>> next(natsSubscription* sub,
                                                          std::chrono::milliseconds timeout) {
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, sub, timeout.count()) != NATS_OK)
      return std::nullopt;
    std::pair<std::string, std::string> result{
      std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)),
      natsMsg_GetReply(msg) ? natsMsg_GetReply(msg) : ""};
    natsMsg_Destroy(msg);
    return result;
  }

  /// Waits until the server reported a permissions violation naming `subject`.
  bool violation(const std::string& subject, std::chrono::milliseconds timeout = 3s) {
    std::unique_lock<std::mutex> guard{mtx_};
    return cv_.wait_for(guard, timeout, [&] {
      for (auto& e : errors_)
        if (e.find("Permissions Violation") != std::string::npos
            && e.find("\"" + subject + "\"") != std::string::npos)
          return true;
      return false;
    });
  }

  std::string errors() {
    std::lock_guard<std::mutex> guard{mtx_};
    std::string result;
    for (auto& e : errors_)
      result += e + "; ";
    return result;
  }

  natsConnection* native() {
    return nc_;
  }

  natsStatus status = NATS_OK;
  std::string connect_error;

 private:
  static void on_error(natsConnection* nc, natsSubscription*, natsStatus s, void* closure) {
    auto self = static_cast<peer*>(closure);
    const char* text = nullptr;
    natsConnection_GetLastError(nc, &text);
    {
      std::lock_guard<std::mutex> guard{self->mtx_};
      self->errors_.push_back(std::string{natsStatus_GetText(s)} + ": " + (text ? text : ""));
    }
    self->cv_.notify_all();
  }

  natsConnection* nc_ = nullptr;
  std::vector<natsSubscription*> subs_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::string> errors_;
};

authorized_nats& shared_nats() {
  static authorized_nats server;
  return server;
}

/// `from` publishes on `subject`; `observer`, subscribed to `pattern`, receives it.
void expect_delivered(peer& from, const std::string& subject, peer& observer,
                      const std::string& pattern) {
  auto sub = observer.subscribe(pattern);
  auto body = random_token("ok-");
  from.publish(subject, body);
  auto got = observer.next(sub, 3s);
  BOOST_CHECK_MESSAGE(got && got->first == body,
                      subject << " did not arrive; errors: " << from.errors());
}

/// `from` publishes on `subject`; the server says no and `observer`, which may read
/// `pattern`, never sees it.
void expect_refused(peer& from, const std::string& subject, peer& observer,
                    const std::string& pattern) {
  auto sub = observer.subscribe(pattern);
  auto body = random_token("forbidden-");
  from.publish(subject, body);
  BOOST_CHECK_MESSAGE(from.violation(subject), "no permissions violation for a publish to "
                                                 << subject << "; errors: " << from.errors());
  // The violation says the server has handled the publish; a delivery would have gone out
  // before it.
  natsConnection_FlushTimeout(observer.native(), 2000);
  auto got = observer.next(sub, 300ms);
  BOOST_CHECK_MESSAGE(!got, subject << " was delivered: " << (got ? got->first : ""));
}

/// `who` subscribes to `pattern`; the server says no, and what `from` then publishes on
/// `subject` never reaches `who`.
void expect_subscribe_refused(peer& who, const std::string& pattern, peer& from,
                              const std::string& subject) {
  auto sub = who.subscribe(pattern);
  BOOST_CHECK_MESSAGE(who.violation(pattern), "no permissions violation for a subscription to "
                                                << pattern << "; errors: " << who.errors());
  from.publish(subject, random_token("secret-"));
  auto got = who.next(sub, 500ms);
  BOOST_CHECK_MESSAGE(!got, pattern << " received " << (got ? got->first : ""));
}

/// Messages in stream `name`, as user slicegate sees them.
uint64_t stream_messages(peer& slicegate, const std::string& name) {
  jsCtx* js = nullptr;
  natsConnection_JetStream(&js, slicegate.native(), nullptr);
  jsStreamInfo* info = nullptr;
  auto s = js_GetStreamInfo(&info, js, name.c_str(), nullptr, nullptr);
  uint64_t result = s == NATS_OK ? info->State.Msgs : ~uint64_t{0};
  jsStreamInfo_Destroy(info);
  jsCtx_Destroy(js);
  return result;
}

/// Creates stream GATEWAY_EVENTS as the daemon does, as user slicegate.
void ensure_events_stream(peer& slicegate) {
  jsCtx* js = nullptr;
  natsConnection_JetStream(&js, slicegate.native(), nullptr);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "GATEWAY_EVENTS";
  const char* subjects[] = {"gateway.events.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  // As the daemon makes it, which later uses it (file storage cannot be changed).
  cfg.Storage = js_FileStorage;
  jsStreamInfo* info = nullptr;
  auto s = js_AddStream(&info, js, &cfg, nullptr, nullptr);
  jsStreamInfo_Destroy(info);
  jsCtx_Destroy(js);
  BOOST_REQUIRE_MESSAGE(s == NATS_OK || s == NATS_ERR, "js_AddStream: " << natsStatus_GetText(s));
}

/// Runs `command` with standard error joined to standard output; returns the exit code.
int run_capturing(const std::string& command, std::string& output) {
  test::temp_dir out;
  auto rc = test::run(command + " >" + out / "out" + " 2>&1");
  output = read_file(out / "out");
  return rc;
}

/// The standard daemon arguments, pointed at `nats_url` instead of the shared nats-server.
std::vector<std::string> daemon_args_for(const std::string& nats_url,
                                         const std::vector<std::string>& extra) {
  auto args = test::daemon_args(test::shared_servers());
  for (auto& arg : args)
    if (arg.rfind("--nats-url=", 0) == 0)
      arg = "--nats-url=" + nats_url;
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// Waits for `d` to end on its own; its exit code, or -1000 if it still runs after `timeout`.
int wait_for_exit(test::daemon& d, std::chrono::seconds timeout) {
  if (!test::eventually([&] { return !d.running(); }, timeout))
    return -1000;
  return d.stop();
}

void create_admin() {
  auto& servers = test::shared_servers();
  servers.reset_database();
  auto rc = test::run("printf '" + test::fixture_admin_password + "\\n' | "
                      + test::slicegate_binary()
                      + " create-admin --password-stdin --bcrypt-cost=4 --email "
                      + test::fixture_admin_email + " --database-url='" + servers.database_url()
                      + "' >/dev/null 2>&1");
  BOOST_REQUIRE_EQUAL(rc, 0);
}

} // namespace

BOOST_AUTO_TEST_CASE(each_caller_may_publish_its_own_subjects) {
  auto& nats = shared_nats();
  peer slicegate{nats, "slicegate"}, webapp{nats, "webapp"}, signup{nats, "signup"},
    billing{nats, "billing"}, admin{nats, "admin"}, dashboard{nats, "dashboard"};
  expect_delivered(webapp, "gateway.auth.login", slicegate, "gateway.auth.>");
  expect_delivered(webapp, "gateway.auth.signup", slicegate, "gateway.auth.>");
  expect_delivered(webapp, "gateway.session.resolve", slicegate, "gateway.session.>");
  expect_delivered(admin, "gateway.admin.users.promote", slicegate, "gateway.admin.>");
  expect_delivered(admin, "gateway.auth.login", slicegate, "gateway.auth.>");
  expect_delivered(admin, "$SRV.PING.slicegate", slicegate, "$SRV.>");
  expect_delivered(dashboard, "gateway.admin.overview", slicegate, "gateway.admin.>");
  expect_delivered(dashboard, "gateway.auth.login", slicegate, "gateway.auth.>");
  expect_delivered(slicegate, "gateway.slice.status.7", dashboard, "gateway.slice.>");
  expect_delivered(slicegate, "gateway.slice.alert.7", admin, "gateway.slice.>");
  expect_delivered(slicegate, "gateway.user.slice.3", dashboard, "gateway.user.slice.>");
  expect_delivered(slicegate, "gateway.server.telemetry", dashboard, "gateway.server.telemetry");
  // Instances tell each other what they revoked.
  peer other_instance{nats, "slicegate"};
  expect_delivered(slicegate, "gateway.internal.sessions.forget", other_instance,
                   "gateway.internal.>");
  // Events go into stream GATEWAY_EVENTS, which only the daemon reads.
  ensure_events_stream(slicegate);
  auto before = stream_messages(slicegate, "GATEWAY_EVENTS");
  signup.publish("gateway.events.signup", "{}");
  billing.publish("gateway.events.payment", "{}");
  slicegate.publish("gateway.events.rejected", "{}");
  BOOST_CHECK(test::eventually(
    [&] { return stream_messages(slicegate, "GATEWAY_EVENTS") == before + 3; }, 5s));
}

BOOST_AUTO_TEST_CASE(the_server_refuses_what_a_caller_may_not_publish) {
  auto& nats = shared_nats();
  peer slicegate{nats, "slicegate"}, webapp{nats, "webapp"}, signup{nats, "signup"},
    billing{nats, "billing"}, admin{nats, "admin"}, dashboard{nats, "dashboard"};
  // Requests on behalf of someone else's role.
  expect_refused(webapp, "gateway.admin.users.promote", slicegate, "gateway.admin.>");
  expect_refused(signup, "gateway.auth.login", slicegate, "gateway.auth.>");
  expect_refused(admin, "gateway.auth.signup", slicegate, "gateway.auth.>");
  expect_refused(dashboard, "gateway.session.resolve", slicegate, "gateway.session.>");
  // Forged slice events.
  expect_refused(webapp, "gateway.slice.status.1", dashboard, "gateway.slice.>");
  expect_refused(admin, "gateway.user.slice.1", dashboard, "gateway.user.slice.>");
  expect_refused(dashboard, "gateway.server.telemetry", admin, "gateway.server.telemetry");
  // Forged revocations between instances.
  expect_refused(webapp, "gateway.internal.sessions.forget", slicegate, "gateway.internal.>");
  expect_refused(dashboard, "gateway.internal.sessions.forget", slicegate,
                 "gateway.internal.>");
  // Forged signups and payments: nothing reaches the stream the daemon consumes.
  ensure_events_stream(slicegate);
  auto before = stream_messages(slicegate, "GATEWAY_EVENTS");
  std::vector<std::pair<peer*, std::string>> forged{
    {&webapp, "gateway.events.signup"},   {&webapp, "gateway.events.payment"},
    {&signup, "gateway.events.payment"},  {&billing, "gateway.events.signup"},
    {&admin, "gateway.events.payment"},   {&dashboard, "gateway.events.payment"},
    {&slicegate, "gateway.events.payment"}};
  for (auto& [from, subject] : forged) {
    from->publish(subject, "{}");
    BOOST_CHECK_MESSAGE(from->violation(subject), subject << " not refused: " << from->errors());
  }
  // A last allowed event: once it is in, every forged one before it would be too.
  signup.publish("gateway.events.signup", "{}");
  BOOST_CHECK(test::eventually(
    [&] { return stream_messages(slicegate, "GATEWAY_EVENTS") == before + 1; }, 5s));
  std::this_thread::sleep_for(200ms);
  BOOST_CHECK_EQUAL(stream_messages(slicegate, "GATEWAY_EVENTS"), before + 1);
}

BOOST_AUTO_TEST_CASE(the_server_refuses_what_a_caller_may_not_read) {
  auto& nats = shared_nats();
  peer slicegate{nats, "slicegate"}, webapp{nats, "webapp"}, other_webapp{nats, "webapp"},
    signup{nats, "signup"}, admin{nats, "admin"}, dashboard{nats, "dashboard"};
  // Every login carries a password: only the daemon reads them.
  expect_subscribe_refused(webapp, "gateway.auth.>", other_webapp, "gateway.auth.login");
  expect_subscribe_refused(dashboard, "gateway.auth.login", webapp, "gateway.auth.login");
  // Admin requests carry admin sessions.
  expect_subscribe_refused(admin, "gateway.admin.>", dashboard, "gateway.admin.overview");
  expect_subscribe_refused(signup, "gateway.slice.>", slicegate, "gateway.slice.status.1");
  expect_subscribe_refused(admin, "gateway.internal.>", slicegate,
                           "gateway.internal.sessions.forget");
  // The dashboard needs no password over WebSocket, so it may read its own inboxes only: not
  // the replies (session tokens) of the web app.
  expect_subscribe_refused(dashboard, "_INBOX.>", slicegate, "_INBOX.webapp-reply");
}

BOOST_AUTO_TEST_CASE(replies_reach_the_inboxes_of_each_caller) {
  auto& nats = shared_nats();
  peer slicegate{nats, "slicegate"};
  peer dashboard{nats, "dashboard", "_INBOX_dashboard"};
  peer webapp{nats, "webapp"};
  struct call {
    peer* caller;
    std::string subject;
    std::string pattern;
    std::string inbox;
  };
  // The daemon replies to whatever inbox a caller names, its own `_INBOX_dashboard.` ones too.
  for (auto& c : {call{&dashboard, "gateway.admin.overview", "gateway.admin.>",
                       "_INBOX_dashboard.1"},
                  call{&webapp, "gateway.auth.login", "gateway.auth.>", "_INBOX.w1"}}) {
    auto caller = c.caller;
    auto inbox = c.inbox;
    auto requests = slicegate.subscribe(c.pattern);
    auto replies = caller->subscribe(inbox);
    caller->publish(c.subject, "{}", inbox);
    auto request = slicegate.next(requests, 3s);
    BOOST_REQUIRE(request);
    BOOST_CHECK_EQUAL(request->second, inbox);
    slicegate.publish(request->second, "answer");
    auto reply = caller->next(replies, 3s);
    BOOST_CHECK_MESSAGE(reply && reply->first == "answer",
                        "no reply on " << inbox << "; " << slicegate.errors());
  }
}

BOOST_AUTO_TEST_CASE(no_password_no_connection) {
  auto& nats = shared_nats();
  peer wrong{nats.url(), nats_credentials{"webapp", "not-the-password"}};
  BOOST_CHECK_NE(wrong.status, NATS_OK);
  // The WebSocket listener's user without a password is for WebSocket clients only.
  peer anonymous{nats.url(), nats_credentials{}};
  BOOST_CHECK_NE(anonymous.status, NATS_OK);
  peer misplaced{nats.url(), nats_credentials{"webapp", nats.passwords.at("admin")}};
  BOOST_CHECK_NE(misplaced.status, NATS_OK);
}

BOOST_AUTO_TEST_CASE(the_daemon_serves_every_caller_as_user_slicegate) {
  auto& nats = shared_nats();
  create_admin();
  auto password = nats.passwords.at("slicegate");
  test::daemon daemon{daemon_args_for(nats.url(), {"--nats-user=slicegate"}),
                      {{"SLICEGATE_NATS_PASSWORD", password}}};
  // The web app signs a user up and in.
  test::nats_client webapp{nats.url_of("webapp")};
  auto signed_up = webapp.request("gateway.auth.signup",
                                  json{{"email", "web@example.com"}, {"password", "password-1"}},
                                  30s);
  BOOST_REQUIRE_MESSAGE(signed_up.ok() && signed_up.error_code().empty(),
                        signed_up.status << " " << signed_up.body << "\n" << daemon.log());
  // A forged signup event from the web app is refused; the signup service's event, published
  // after it, is applied (so the forged one would have been applied before it).
  auto hash = bcrypt_hash("password-2", 12);
  BOOST_REQUIRE(hash);
  peer forger{nats, "webapp"};
  forger.publish("gateway.events.signup",
                 json{{"id", "evt-forged"}, {"email", "forged@example.com"},
                      {"password_hash", *hash}}
                   .dump());
  BOOST_CHECK(forger.violation("gateway.events.signup"));
  test::nats_client signup{nats.url_of("signup")};
  signup.js_publish("gateway.events.signup", json{{"id", "evt-1"},
                                                  {"email", "event@example.com"},
                                                  {"password_hash", *hash}}
                                               .dump());
  auto login = [&](const std::string& email) {
    return webapp.request("gateway.auth.login",
                          json{{"email", email}, {"password", "password-2"}});
  };
  // Waits for the account itself: failed logins in the meantime would count against the
  // e-mail's throttle.
  BOOST_REQUIRE(test::eventually(
    [&] {
      return test::scalar(test::shared_servers().database_url(),
                          "SELECT count(*) FROM gateway.users WHERE email = 'event@example.com'")
             == 1;
    },
    30s));
  BOOST_CHECK(login("event@example.com").error_code().empty());
  BOOST_CHECK_EQUAL(login("forged@example.com").error_code(), "invalid_credentials");
  // An admin with slicectl: sign in, provision a slice; a dashboard sees it appear.
  test::nats_client dashboard{nats.url_of("dashboard")};
  dashboard.subscribe("gateway.slice.>");
  auto slicectl = "SLICEGATE_NATS_PASSWORD='" + nats.passwords.at("admin") + "' "
                  + test::slicectl_binary() + " --nats-url " + nats.url()
                  + " --nats-user admin ";
  std::string out;
  BOOST_REQUIRE_EQUAL(run_capturing("printf '" + test::fixture_admin_password + "\\n' | "
                                      + slicectl + "login --email " + test::fixture_admin_email,
                                    out),
                      0);
  // The token is the last line.
  auto session = out;
  while (!session.empty() && std::isspace(static_cast<unsigned char>(session.back())))
    session.pop_back();
  session = session.substr(session.find_last_of('\n') + 1);
  BOOST_REQUIRE_MESSAGE(session.size() == 64, out);
  // --wait follows the slice with `slices.list` until its wipe has ended.
  BOOST_CHECK_EQUAL(
    run_capturing(slicectl + "--session " + session + " slices create --count 1 --wait", out),
    0);
  BOOST_CHECK_MESSAGE(out.find("destroying") == std::string::npos, out);
  BOOST_TEST_MESSAGE(out);
  BOOST_CHECK_MESSAGE(!dashboard.wait_for(1, 20s).empty(), "no slice event reached the dashboard");
  BOOST_CHECK_EQUAL(run_capturing(slicectl + "ping", out), 0);
  BOOST_CHECK_MESSAGE(out.find("slicegate") != std::string::npos, out);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
  auto log = daemon.log();
  BOOST_CHECK_MESSAGE(log.find(password) == std::string::npos, "the log holds the password");
  BOOST_CHECK_MESSAGE(log.find("user slicegate with a password") != std::string::npos, log);
  // Nothing in the log names a permissions violation of the daemon's own.
  BOOST_CHECK_MESSAGE(log.find("Permissions Violation") == std::string::npos
                        && log.find("Not Permitted") == std::string::npos,
                      log);
}

BOOST_AUTO_TEST_CASE(a_refused_password_stops_the_daemon_and_stays_out_of_its_log) {
  auto& nats = shared_nats();
  // In the URL and as a setting alike.
  auto port = std::to_string(nats.port);
  for (auto args : {daemon_args_for("nats://slicegate:wrong-url-secret@127.0.0.1:" + port, {}),
                    daemon_args_for(nats.url(), {"--nats-user=slicegate",
                                                 "--nats-password=wrong-flag-secret"})}) {
    test::daemon refused{args};
    BOOST_CHECK_EQUAL(wait_for_exit(refused, 60s), 2);
    auto log = refused.log();
    BOOST_CHECK_MESSAGE(log.find("Authorization") != std::string::npos, log);
    BOOST_CHECK_MESSAGE(log.find("wrong-url-secret") == std::string::npos
                          && log.find("wrong-flag-secret") == std::string::npos,
                        log);
  }
}

BOOST_AUTO_TEST_CASE(credential_mistakes_stop_the_start_naming_the_option) {
  test::temp_dir dir;
  write_file(dir / "seed.nk", "not a seed\n");
  struct mistake {
    std::string args;
    std::string says;
  };
  std::vector<mistake> mistakes{
    {"--nats-token=tok --nats-creds=" + dir / "seed.nk", "--nats-token and --nats-creds"},
    {"--nats-user=u --nats-password=p --nats-token=tok", "exclude each other"},
    {"--nats-url=nats://u:p@127.0.0.1:1 --nats-token=tok", "credentials in --nats-url"},
    {"--nats-user=u", "--nats-user needs --nats-password"},
    {"--nats-tls-ca=" + dir / "missing.pem", "--nats-tls-ca: cannot read " + dir / "missing.pem"},
    {"--nats-creds=" + dir / "missing.creds", "--nats-creds: cannot read"},
    {"--nats-tls-cert=" + dir / "seed.nk", "--nats-tls-cert needs --nats-tls-key"},
    {"--nats-nkey-seed=" + dir / "seed.nk", "holds no valid NKey user seed"},
  };
  for (auto& m : mistakes) {
    std::string out;
    // The daemon checks before it touches the database or NATS (port 1: nothing listens).
    // Both check before they touch the database or NATS.
    auto rc = run_capturing(test::slicegate_binary() + " serve --runtime=external " + m.args,
                            out);
    BOOST_CHECK_EQUAL(rc, 2);
    BOOST_CHECK_MESSAGE(out.find(m.says) != std::string::npos, m.args << ": " << out);
    rc = run_capturing(test::slicectl_binary() + " " + m.args + " ping", out);
    BOOST_CHECK_EQUAL(rc, 64);
    BOOST_CHECK_MESSAGE(out.find(m.says) != std::string::npos, m.args << ": " << out);
  }
}

BOOST_AUTO_TEST_CASE(help_shows_no_secret) {
  std::string env = "NATS_URL=nats://u:url-secret@127.0.0.1:4222 "
                    "DATABASE_URL=postgresql://r:db-secret@127.0.0.1/x "
                    "SLICEGATE_NATS_PASSWORD=env-secret SLICEGATE_NATS_TOKEN=env-token ";
  for (auto command :
       {test::slicegate_binary() + " --help", test::slicegate_binary() + " serve --help",
        test::slicegate_binary() + " --nats-password=flag-secret --help",
        test::slicectl_binary() + " --help",
        test::slicectl_binary() + " --nats-token=flag-secret --help"}) {
    std::string out;
    run_capturing(env + command, out);
    // `serve --help` lists the subcommand's own options; the settings are the program's.
    if (command.find(" serve ") == std::string::npos)
      BOOST_CHECK_MESSAGE(out.find("--nats-password") != std::string::npos,
                          command << ": " << out);
    BOOST_CHECK_MESSAGE(out.find("Usage") != std::string::npos, command << ": " << out);
    for (auto secret : {"url-secret", "db-secret", "env-secret", "env-token", "flag-secret"})
      BOOST_CHECK_MESSAGE(out.find(secret) == std::string::npos,
                          command << " shows " << secret << ":\n" << out);
  }
}

BOOST_AUTO_TEST_CASE(the_daemon_and_slicectl_speak_tls_with_client_certificates) {
  test::temp_dir pki;
  auto sh = [&](const std::string& command) {
    std::string out;
    BOOST_REQUIRE_MESSAGE(run_capturing("cd " + pki.path() + " && " + command, out) == 0, out);
  };
  sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout ca.key "
     "-out ca.pem");
  for (auto name : {"server", "client"}) {
    std::string n = name;
    sh("openssl req -newkey rsa:2048 -nodes -subj /CN=" + n + " -keyout " + n + ".key -out "
       + n + ".csr");
    sh("printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' >" + n + ".ext && openssl x509 "
       "-req -in " + n + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile " + n
       + ".ext -out " + n + ".pem");
  }
  authorized_nats nats{"\ntls {\n  cert_file: \"" + pki / "server.pem" + "\"\n  key_file: \""
                       + pki / "server.key" + "\"\n  ca_file: \"" + pki / "ca.pem"
                       + "\"\n  verify: true\n}\n"};
  create_admin();
  auto password = nats.passwords.at("slicegate");
  test::daemon daemon{
    daemon_args_for(nats.url("tls"), {"--nats-user=slicegate", "--nats-tls-ca=" + pki / "ca.pem",
                                      "--nats-tls-cert=" + pki / "client.pem",
                                      "--nats-tls-key=" + pki / "client.key"}),
    {{"SLICEGATE_NATS_PASSWORD", password}}};
  nats_credentials webapp_tls{"webapp", nats.passwords.at("webapp")};
  webapp_tls.tls_ca = pki / "ca.pem";
  webapp_tls.tls_cert = pki / "client.pem";
  webapp_tls.tls_key = pki / "client.key";
  peer webapp{nats.url(), webapp_tls};
  BOOST_REQUIRE_MESSAGE(webapp.status == NATS_OK, webapp.connect_error);
  natsMsg* reply = nullptr;
  auto s = NATS_NO_RESPONDERS;
  test::eventually(
    [&] {
      s = natsConnection_RequestString(&reply, webapp.native(), "gateway.session.resolve",
                                       R"({"session_id":"nope"})", 2000);
      return s == NATS_OK;
    },
    30s);
  BOOST_REQUIRE_MESSAGE(s == NATS_OK, natsStatus_GetText(s) << "\n" << daemon.log());
  std::string body(natsMsg_GetData(reply), natsMsg_GetDataLength(reply));
  natsMsg_Destroy(reply);
  BOOST_CHECK_MESSAGE(body.find("unauthorized") != std::string::npos, body);
  // slicectl through the same TLS; and without its certificate, the server lets it not in.
  auto slicectl = "SLICEGATE_NATS_PASSWORD='" + nats.passwords.at("admin") + "' "
                  + test::slicectl_binary() + " --nats-url " + nats.url()
                  + " --nats-user admin --nats-tls-ca " + pki / "ca.pem";
  std::string out;
  BOOST_CHECK_EQUAL(run_capturing(slicectl + " --nats-tls-cert " + pki / "client.pem"
                                    + " --nats-tls-key " + pki / "client.key" + " ping",
                                  out),
                    0);
  BOOST_CHECK_MESSAGE(out.find("slicegate") != std::string::npos, out);
  BOOST_CHECK_EQUAL(run_capturing(slicectl + " ping", out), 2);
  BOOST_CHECK_MESSAGE(out.find("cannot connect") != std::string::npos, out);
  // Without TLS at all, nobody gets in.
  peer plain{nats.url(), nats_credentials{"webapp", nats.passwords.at("webapp")}};
  BOOST_CHECK_NE(plain.status, NATS_OK);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
  auto log = daemon.log();
  BOOST_CHECK_MESSAGE(log.find(password) == std::string::npos, "the log holds the password");
  BOOST_CHECK_MESSAGE(log.find("TLS with CA " + pki / "ca.pem") != std::string::npos, log);
}
