#include "bridge/micro.hpp"

#include <random>

namespace slicegate::micro {

namespace {

codec::json common(const identity& who, const char* type) {
  return {
    {"type", type},           {"name", who.name},         {"id", who.id},
    {"version", who.version}, {"metadata", who.metadata},
  };
}

} // namespace

codec::json ping_response(const identity& who) {
  return common(who, "io.nats.micro.v1.ping_response");
}

codec::json info_response(const identity& who, const std::vector<endpoint>& endpoints) {
  auto result = common(who, "io.nats.micro.v1.info_response");
  result["description"] = who.description;
  auto list = codec::json::array();
  for (auto& x : endpoints)
    list.push_back({
      {"name", x.name},
      {"subject", x.subject},
      {"queue_group", x.queue_group},
      {"metadata", codec::json::object()},
    });
  result["endpoints"] = std::move(list);
  return result;
}

codec::json stats_response(const identity& who, caf::timestamp started,
                           const std::vector<endpoint>& endpoints) {
  auto result = common(who, "io.nats.micro.v1.stats_response");
  result["started"] = codec::format_time(started);
  auto list = codec::json::array();
  for (auto& x : endpoints) {
    auto total = x.stats.processing_time.count();
    auto average = x.stats.requests == 0 ? 0 : total / static_cast<int64_t>(x.stats.requests);
    list.push_back({
      {"name", x.name},
      {"subject", x.subject},
      {"queue_group", x.queue_group},
      {"num_requests", x.stats.requests},
      {"num_errors", x.stats.errors},
      {"last_error", x.stats.last_error},
      {"processing_time", total},
      {"average_processing_time", average},
      {"data", nullptr},
    });
  }
  result["endpoints"] = std::move(list);
  return result;
}

std::string random_id() {
  static constexpr char alphabet[]
    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::random_device device;
  std::uniform_int_distribution<size_t> pick{0, sizeof(alphabet) - 2};
  std::string result(22, '0');
  for (auto& c : result)
    c = alphabet[pick(device)];
  return result;
}

} // namespace slicegate::micro
