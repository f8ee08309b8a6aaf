#include "runtime/docker_driver.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <sstream>

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/database_url.hpp"
#include "messages/error.hpp"

namespace slicegate {

namespace {

using namespace std::chrono_literals;
using nlohmann::json;

/// The Engine API version spoken; 1.41 is Docker 20.10, the oldest engine still in Debian.
constexpr const char* api_base = "http://localhost/v1.41";

/// Time allowed for a request that does not wait on a container's shutdown.
constexpr auto request_timeout = 30s;

/// Extra time a stop request gets beyond the grace the Engine waits before its SIGKILL.
constexpr auto stop_slack = 30s;

/// A reply of the Engine.
struct response {
  long status = 0;
  std::string body;
};

/// A string member of a JSON object; empty if missing or not a string (json::value would
/// throw on a mistyped one).
std::string text_field(const json& object, const char* key) {
  auto i = object.find(key);
  return i != object.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

/// The Engine's explanation in an error reply (`{"message": "..."}`), or the raw body.
std::string engine_message(const response& r) {
  auto doc = json::parse(r.body, nullptr, false);
  auto text = doc.is_object() ? text_field(doc, "message") : std::string{};
  if (!text.empty())
    return text;
  return r.body.empty() ? "no message" : r.body.substr(0, 200);
}

caf::error refused(const std::string& what, const response& r) {
  return make_error(ec::internal, "docker engine refused to " + what + ": " + engine_message(r)
                                    + " (HTTP " + std::to_string(r.status) + ")");
}

/// An integer member of a JSON object; none if missing or not a number.
optional<int64_t> number_field(const json& object, const char* key) {
  if (!object.is_object())
    return caf::none;
  auto i = object.find(key);
  if (i == object.end() || !i->is_number_integer())
    return caf::none;
  return i->get<int64_t>();
}

/// The member `key` of `object` if both are objects, else an empty object.
const json& object_field(const json& object, const char* key) {
  static const json empty = json::object();
  if (!object.is_object())
    return empty;
  auto i = object.find(key);
  return i != object.end() && i->is_object() ? *i : empty;
}

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

} // namespace

/// One keep-alive connection to the Engine. Not thread-safe, like the driver that owns it.
class docker_driver::engine {
 public:
  explicit engine(std::string socket) : socket_(std::move(socket)) {
    // curl_global_init is not thread-safe on every build; every user goes through here once.
    static std::once_flag init;
    std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
    headers_ = curl_slist_append(headers_, "Content-Type: application/json");
    // A create body over 1 KiB would otherwise wait a second for "100 Continue".
    headers_ = curl_slist_append(headers_, "Expect:");
  }

  ~engine() {
    curl_slist_free_all(headers_);
    if (curl_ != nullptr)
      curl_easy_cleanup(curl_);
  }

  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Sends one request; an error only when the Engine cannot be reached or does not answer.
  caf::expected<response> call(const char* method, const std::string& path,
                               const std::string& body = {},
                               caf::timespan timeout = request_timeout) {
    if (curl_ == nullptr)
      return make_error(ec::internal, "cannot initialise libcurl");
    // Reset drops the previous request's method and body but keeps the open connection.
    curl_easy_reset(curl_);
    response result;
    auto url = std::string{api_base} + path;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    curl_easy_setopt(curl_, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(ms));
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &result.body);
    std::string verb = method;
    if (verb == "POST") {
      curl_easy_setopt(curl_, CURLOPT_POST, 1L);
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    } else if (verb != "GET") {
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method);
    }
    auto rc = curl_easy_perform(curl_);
    if (rc != CURLE_OK)
      return make_error(ec::unavailable, "docker engine at " + socket_
                                           + " is unavailable: " + curl_easy_strerror(rc));
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &result.status);
    return result;
  }

  /// Escapes a query parameter value.
  std::string escape(const std::string& text) {
    std::string result;
    if (curl_ == nullptr)
      return result;
    if (auto escaped = curl_easy_escape(curl_, text.c_str(), static_cast<int>(text.size()))) {
      result = escaped;
      curl_free(escaped);
    }
    return result;
  }

 private:
  std::string socket_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
};

docker_driver::docker_driver(runtime_config cfg, monotonic_clock clock)
  : cfg_(std::move(cfg)), clock_(std::move(clock)), cgroups_(cfg_.cgroup_root),
    engine_(std::make_unique<engine>(cfg_.docker_socket)) {
  spdlog::info("docker runtime reads container usage from {} under {}",
               to_string(cgroups_.layout()), cgroups_.root());
}

docker_driver::~docker_driver() = default;

std::string docker_driver::name() const {
  return "docker";
}

std::string docker_driver::container_name(int32_t slice_id) {
  return "slice-" + std::to_string(slice_id);
}

std::string docker_driver::create_body(const slice_spec& spec) const {
  auto port = std::to_string(spec.port) + "/tcp";
  std::error_code err;
  auto data_dir = std::filesystem::absolute(spec.data_dir, err).lexically_normal().string();
  if (err)
    data_dir = spec.data_dir;
  json binding = {{"HostIp", cfg_.slice_host}, {"HostPort", std::to_string(spec.port)}};
  json host_config = {
    {"PortBindings", {{port, json::array({binding})}}},
    {"Binds", json::array({data_dir + ":/data"})},
    // Restarts are slicegate's decision (with backoff and alerts), not the Engine's.
    {"RestartPolicy", {{"Name", "no"}}},
    // A slice serves HTTP on an unprivileged port: it needs no capability, and nothing in
    // it may gain privileges through a setuid binary.
    {"CapDrop", json::array({"ALL"})},
    {"SecurityOpt", json::array({"no-new-privileges"})},
  };
  if (cfg_.pids_limit > 0)
    host_config["PidsLimit"] = cfg_.pids_limit;
  if (cfg_.memory_limit > 0)
    host_config["Memory"] = cfg_.memory_limit;
  if (cfg_.cpu_limit > 0)
    host_config["NanoCpus"] = static_cast<int64_t>(std::llround(cfg_.cpu_limit * 1e9));
  if (!cfg_.docker_network.empty())
    host_config["NetworkMode"] = cfg_.docker_network;
  json body = {
    {"Image", cfg_.docker_image},
    {"Env",
     json::array({"PORT=" + std::to_string(spec.port), "DATABASE_URL=" + spec.database_url,
                  "DATA_DIR=/data", "SLICE_ID=" + std::to_string(spec.slice_id)})},
    {"ExposedPorts", {{port, json::object()}}},
    {"Labels", {{"slicegate.slice", std::to_string(spec.slice_id)}}},
    {"HostConfig", host_config},
  };
  return body.dump();
}

caf::error docker_driver::create(const slice_spec& spec) {
  auto name = container_name(spec.slice_id);
  auto reply = engine_->call("POST", "/containers/create?name=" + name, create_body(spec));
  if (!reply)
    return reply.error();
  if (reply->status == 201) {
    auto doc = json::parse(reply->body, nullptr, false);
    if (doc.is_object())
      containers_[spec.slice_id] = container{text_field(doc, "Id"), caf::none};
    spdlog::info("docker runtime creates container {}", name);
    return {};
  }
  if (reply->status != 409)
    return refused("create " + name, *reply);
  // 409: a container of that name exists. A previous daemon's container of this slice is
  // adopted; anything else of that name (made by hand, another image, no label) is replaced.
  auto found = inspect(spec.slice_id);
  if (!found)
    return found.error();
  if (*found) {
    auto why = unfit(spec.slice_id, **found);
    // A slice is started afresh with new database credentials: a container that holds
    // others (stopped, or an older version's) would start with a password that no longer
    // works.
    if (why.empty() && (*found)->database_url != spec.database_url)
      why = "its database credentials are not current";
    if (why.empty()) {
      containers_[spec.slice_id] = container{(*found)->id, caf::none};
      return {};
    }
    spdlog::warn("docker runtime replaces container {}: {}", name, why);
    auto gone = engine_->call("DELETE", "/containers/" + name + "?force=true&v=true");
    if (!gone)
      return gone.error();
    if (gone->status != 204 && gone->status != 404)
      return refused("remove " + name, *gone);
  }
  reply = engine_->call("POST", "/containers/create?name=" + name, create_body(spec));
  if (!reply)
    return reply.error();
  if (reply->status != 201)
    return refused("create " + name, *reply);
  auto doc = json::parse(reply->body, nullptr, false);
  if (doc.is_object())
    containers_[spec.slice_id] = container{text_field(doc, "Id"), caf::none};
  spdlog::info("docker runtime creates container {}", name);
  return {};
}

std::string docker_driver::unfit(int32_t slice_id, const inspection& found) const {
  if (found.slice_label != std::to_string(slice_id))
    return found.slice_label.empty() ? "it has no slicegate.slice label"
                                     : "its slicegate.slice label says " + found.slice_label;
  if (found.image != cfg_.docker_image)
    return "it runs image " + found.image + ", not " + cfg_.docker_image;
  return {};
}

caf::error docker_driver::start(const slice_spec& spec) {
  if (auto err = validate(spec))
    return err;
  if (auto err = ensure_directory(spec.data_dir))
    return err;
  if (auto err = create(spec))
    return err;
  auto name = container_name(spec.slice_id);
  auto reply = engine_->call("POST", "/containers/" + name + "/start");
  if (!reply)
    return reply.error();
  // 304: it already runs.
  if (reply->status != 204 && reply->status != 304)
    return refused("start " + name, *reply);
  if (reply->status == 204)
    spdlog::info("docker runtime starts slice {} (container {})", spec.slice_id, name);
  started_.insert(spec.slice_id);
  return {};
}

caf::error docker_driver::restart(const slice_spec& spec) {
  if (auto err = validate(spec))
    return err;
  auto name = container_name(spec.slice_id);
  auto grace = std::chrono::ceil<std::chrono::seconds>(cfg_.stop_grace);
  auto reply
    = engine_->call("POST", "/containers/" + name + "/restart?t=" + std::to_string(grace.count()),
                    {}, cfg_.stop_grace + stop_slack);
  if (!reply)
    return reply.error();
  if (reply->status == 404)
    return runtime_driver::restart(spec);
  if (reply->status != 204)
    return refused("restart " + name, *reply);
  spdlog::info("docker runtime restarts slice {} (container {})", spec.slice_id, name);
  started_.insert(spec.slice_id);
  if (auto i = containers_.find(spec.slice_id); i != containers_.end())
    i->second.last_cpu = caf::none;
  return {};
}

caf::error docker_driver::stop(int32_t slice_id) {
  auto name = container_name(slice_id);
  // The Engine counts whole seconds; rounding down could turn a short grace into none.
  auto grace = std::chrono::ceil<std::chrono::seconds>(cfg_.stop_grace);
  auto reply
    = engine_->call("POST", "/containers/" + name + "/stop?t=" + std::to_string(grace.count()),
                    {}, cfg_.stop_grace + stop_slack);
  if (!reply)
    return reply.error();
  // 304: already stopped; 404: nothing to stop.
  if (reply->status != 204 && reply->status != 304 && reply->status != 404)
    return refused("stop " + name, *reply);
  if (reply->status == 204)
    spdlog::info("docker runtime stops slice {} (container {})", slice_id, name);
  started_.erase(slice_id);
  if (auto i = containers_.find(slice_id); i != containers_.end())
    i->second.last_cpu = caf::none;
  return {};
}

caf::error docker_driver::remove(int32_t slice_id) {
  // Stopped first so the slice gets its grace; a forced delete alone would SIGKILL it.
  if (auto err = stop(slice_id))
    return err;
  auto name = container_name(slice_id);
  auto reply = engine_->call("DELETE", "/containers/" + name + "?force=true&v=true");
  if (!reply)
    return reply.error();
  if (reply->status != 204 && reply->status != 404)
    return refused("remove " + name, *reply);
  if (reply->status == 204)
    spdlog::info("docker runtime removes container {}", name);
  containers_.erase(slice_id);
  return {};
}

caf::expected<optional<docker_driver::inspection>> docker_driver::inspect(int32_t slice_id) {
  auto name = container_name(slice_id);
  auto reply = engine_->call("GET", "/containers/" + name + "/json");
  if (!reply)
    return reply.error();
  if (reply->status == 404)
    return optional<inspection>{};
  if (reply->status != 200)
    return refused("inspect " + name, *reply);
  auto doc = json::parse(reply->body, nullptr, false);
  inspection result;
  if (doc.is_object())
    result.id = text_field(doc, "Id");
  if (result.id.empty())
    return make_error(ec::internal, "docker engine sent an unreadable inspection of " + name);
  auto& state = object_field(doc, "State");
  auto running = state.find("Running");
  result.running = running != state.end() && running->is_boolean() && running->get<bool>();
  auto& config = object_field(doc, "Config");
  result.image = text_field(config, "Image");
  result.slice_label = text_field(object_field(config, "Labels"), "slicegate.slice");
  if (auto env = config.find("Env"); env != config.end() && env->is_array())
    for (auto& entry : *env)
      if (entry.is_string() && entry.get_ref<const std::string&>().rfind("DATABASE_URL=", 0) == 0)
        result.database_url = entry.get<std::string>().substr(std::strlen("DATABASE_URL="));
  return optional<inspection>{std::move(result)};
}

caf::expected<bool> docker_driver::adopt(int32_t slice_id, const std::string& database_role) {
  auto found = inspect(slice_id);
  if (!found)
    return found.error();
  if (!*found || !(*found)->running || !unfit(slice_id, **found).empty()
      || role_of((*found)->database_url) != database_role)
    return false;
  containers_[slice_id] = container{(*found)->id, caf::none};
  started_.insert(slice_id);
  spdlog::info("docker runtime keeps slice {} running (container {})", slice_id,
               container_name(slice_id));
  return true;
}

caf::expected<bool> docker_driver::running(int32_t slice_id) {
  auto found = inspect(slice_id);
  if (!found)
    return found.error();
  return *found && (*found)->running;
}

caf::expected<cgroup_counters> docker_driver::engine_stats(int32_t slice_id) {
  auto name = container_name(slice_id);
  auto reply
    = engine_->call("GET", "/containers/" + name + "/stats?stream=false&one-shot=true");
  if (!reply)
    return reply.error();
  if (reply->status == 404)
    return cgroup_counters{};
  if (reply->status != 200)
    return refused("report the stats of " + name, *reply);
  auto doc = json::parse(reply->body, nullptr, false);
  cgroup_counters result;
  auto& memory = object_field(doc, "memory_stats");
  if (auto usage = number_field(memory, "usage")) {
    // As `docker stats` shows it: v1 reports total_inactive_file, v2 inactive_file.
    auto& stats = object_field(memory, "stats");
    auto inactive = number_field(stats, "total_inactive_file");
    if (!inactive)
      inactive = number_field(stats, "inactive_file");
    auto drop = inactive.value_or(0);
    result.memory_bytes = drop < *usage ? *usage - drop : *usage;
  }
  if (auto ns
      = number_field(object_field(object_field(doc, "cpu_stats"), "cpu_usage"), "total_usage"))
    result.cpu
      = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds{*ns});
  return result;
}

caf::expected<slice_usage> docker_driver::usage(int32_t slice_id) {
  auto& known = containers_[slice_id];
  auto counters = cgroups_.read(known.id);
  if (!counters) {
    // Never inspected, or re-created by someone under a new id, or not running.
    auto found = inspect(slice_id);
    if (!found)
      return found.error();
    if (!*found || !(*found)->running) {
      containers_.erase(slice_id);
      return slice_usage{};
    }
    if ((*found)->id != known.id)
      known = container{(*found)->id, caf::none};
    counters = cgroups_.read(known.id);
  }
  if (!counters) {
    // A running container without a cgroup here: slicegate runs in a container without the
    // host's /sys/fs/cgroup, or under another cgroup parent. The Engine still knows.
    if (!stats_fallback_reported_)
      spdlog::warn("docker runtime finds no cgroup of container {} under {} ({}); it reads "
                   "usage from the Engine's stats API instead, one request per container",
                   known.id, cgroups_.root(), to_string(cgroups_.layout()));
    stats_fallback_reported_ = true;
    auto stats = engine_stats(slice_id);
    if (!stats)
      return stats.error();
    counters = std::move(*stats);
  }
  slice_usage result;
  result.rss_bytes = counters->memory_bytes;
  if (counters->cpu) {
    cpu_reading now{*counters->cpu, clock_()};
    if (known.last_cpu) {
      auto wall
        = std::chrono::duration_cast<std::chrono::microseconds>(now.at - known.last_cpu->at);
      result.cpu_percent = cpu_percent(now.cpu - known.last_cpu->cpu, wall);
    }
    known.last_cpu = now;
  }
  return result;
}

std::vector<rt::exited> docker_driver::reap() {
  std::vector<rt::exited> result;
  if (started_.empty())
    return result;
  // One listing for all slices instead of one inspection each. Filtered by name, not by
  // label: a reused container made by other tooling may lack the label.
  auto filters = engine_->escape(R"({"name":["slice-"]})");
  auto reply = engine_->call("GET", "/containers/json?all=true&filters=" + filters);
  if (!reply || reply->status != 200) {
    if (!engine_lost_)
      spdlog::warn("docker runtime cannot list containers: {}",
                   reply ? engine_message(*reply) : message_of(reply.error()));
    engine_lost_ = true;
    return result;
  }
  engine_lost_ = false;
  auto doc = json::parse(reply->body, nullptr, false);
  if (!doc.is_array())
    return result;
  // Container name → (state, human-readable status).
  std::map<std::string, std::pair<std::string, std::string>> states;
  for (auto& item : doc) {
    if (!item.is_object() || !item.contains("Names") || !item["Names"].is_array())
      continue;
    auto state = text_field(item, "State");
    auto status = text_field(item, "Status");
    for (auto& name : item["Names"])
      if (name.is_string())
        states[name.get<std::string>()] = {state, status};
  }
  for (auto i = started_.begin(); i != started_.end();) {
    auto id = *i;
    auto found = states.find("/" + container_name(id));
    std::string reason;
    if (found == states.end()) {
      reason = "container is gone";
    } else {
      auto& [state, status] = found->second;
      if (state == "running" || state == "restarting" || state == "paused") {
        ++i;
        continue;
      }
      reason = "container " + state + (status.empty() ? "" : ": " + status);
    }
    spdlog::warn("docker runtime noticed slice {}: {}", id, reason);
    result.push_back(rt::exited{id, std::move(reason)});
    if (auto c = containers_.find(id); c != containers_.end())
      c->second.last_cpu = caf::none;
    i = started_.erase(i);
  }
  return result;
}

} // namespace slicegate
