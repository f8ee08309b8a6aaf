#include "actors/server_monitor.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/statvfs.h>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace slicegate {

namespace host {

namespace {

/// Splits `text` into lines without copying.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> result;
  while (!text.empty()) {
    auto eol = text.find('\n');
    result.push_back(text.substr(0, eol));
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
  }
  return result;
}

/// Splits a line at runs of blanks.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> result;
  size_t pos = 0;
  while ((pos = line.find_first_not_of(" \t", pos)) != std::string_view::npos) {
    auto end = line.find_first_of(" \t", pos);
    result.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return result;
}

optional<uint64_t> number(std::string_view text) {
  uint64_t value = 0;
  auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (err != std::errc{} || end != text.data() + text.size())
    return caf::none;
  return value;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

optional<memory> parse_meminfo(std::string_view text) {
  // Lines look like "MemTotal:       16318684 kB".
  optional<int64_t> total, available, swap_total, swap_free;
  for (auto line : lines_of(text)) {
    auto fields = fields_of(line);
    if (fields.size() < 2)
      continue;
    auto value = number(fields[1]);
    if (!value)
      continue;
    auto bytes
      = static_cast<int64_t>(*value) * (fields.size() > 2 && fields[2] == "kB" ? 1024 : 1);
    if (fields[0] == "MemTotal:")
      total = bytes;
    else if (fields[0] == "MemAvailable:")
      available = bytes;
    else if (fields[0] == "SwapTotal:")
      swap_total = bytes;
    else if (fields[0] == "SwapFree:")
      swap_free = bytes;
  }
  if (!total || !available)
    return caf::none;
  memory result;
  result.ram_total_bytes = *total;
  result.ram_used_bytes = std::max<int64_t>(0, *total - *available);
  result.swap_total_bytes = swap_total.value_or(0);
  result.swap_used_bytes
    = std::max<int64_t>(0, result.swap_total_bytes - swap_free.value_or(0));
  return result;
}

optional<cpu_times> parse_cpu_times(std::string_view text) {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
  for (auto line : lines_of(text)) {
    auto fields = fields_of(line);
    if (fields.empty() || fields[0] != "cpu")
      continue;
    std::vector<uint64_t> ticks;
    for (size_t i = 1; i < fields.size() && i <= 8; ++i) {
      auto value = number(fields[i]);
      if (!value)
        return caf::none;
      ticks.push_back(*value);
    }
    if (ticks.size() < 4)
      return caf::none;
    cpu_times result;
    for (auto t : ticks)
      result.total += t;
    auto idle = ticks[3] + (ticks.size() > 4 ? ticks[4] : 0);
    result.busy = result.total - idle;
    return result;
  }
  return caf::none;
}

float cpu_percent(const cpu_times& before, const cpu_times& after) {
  if (after.total <= before.total || after.busy < before.busy)
    return 0;
  auto busy = static_cast<double>(after.busy - before.busy);
  auto total = static_cast<double>(after.total - before.total);
  return static_cast<float>(std::min(100.0, 100.0 * busy / total));
}

optional<disk> disk_of(const std::string& path) {
  std::error_code err;
  auto p = std::filesystem::absolute(path, err);
  if (err)
    return caf::none;
  for (;;) {
    struct statvfs vfs {};
    if (::statvfs(p.c_str(), &vfs) == 0) {
      disk result;
      auto unit = static_cast<int64_t>(vfs.f_frsize);
      result.total_bytes = static_cast<int64_t>(vfs.f_blocks) * unit;
      result.used_bytes = static_cast<int64_t>(vfs.f_blocks - vfs.f_bfree) * unit;
      return result;
    }
    if (!p.has_relative_path())
      return caf::none;
    p = p.parent_path();
  }
}

} // namespace host

namespace {

using monitor_pointer = server_monitor_actor::stateful_pointer<server_monitor_state>;

/// Reads the host figures into `sample` (slice counts aside). Missing files leave zeros and
/// a warning: a sample with what could be read beats none.
void read_host(monitor_pointer self, server_sample& sample) {
  auto& st = self->state;
  if (auto mem = host::parse_meminfo(host::read_file(st.config.proc_root + "/meminfo"))) {
    sample.ram_total_bytes = mem->ram_total_bytes;
    sample.ram_used_bytes = mem->ram_used_bytes;
    sample.swap_total_bytes = mem->swap_total_bytes;
    sample.swap_used_bytes = mem->swap_used_bytes;
  } else {
    spdlog::warn("server-monitor cannot read {}/meminfo", st.config.proc_root);
  }
  if (auto cpu = host::parse_cpu_times(host::read_file(st.config.proc_root + "/stat"))) {
    if (st.cpu)
      sample.cpu_percent = host::cpu_percent(*st.cpu, *cpu);
    st.cpu = cpu;
  } else {
    spdlog::warn("server-monitor cannot read {}/stat", st.config.proc_root);
  }
  if (auto d = host::disk_of(st.config.data_root)) {
    sample.disk_total_bytes = d->total_bytes;
    sample.disk_used_bytes = d->used_bytes;
  } else {
    spdlog::warn("server-monitor cannot measure the disk of {}", st.config.data_root);
  }
}

void finish_sample(monitor_pointer self, server_sample sample) {
  auto& st = self->state;
  sample.active_slices = st.slices.active;
  sample.total_slices = st.slices.total;
  self->send(st.peers.events, events::server_telemetry{sample});
  self->send(st.peers.writer, std::move(sample));
  st.sampling = false;
  self->delayed_send(self, st.config.interval, tick_atom_v);
}

void take_sample(monitor_pointer self) {
  auto& st = self->state;
  if (st.sampling)
    return;
  st.sampling = true;
  server_sample sample;
  sample.at = st.peers.clock();
  read_host(self, sample);
  // A standby keeps its CPU reading current, so that its first sample as holder is right.
  if (!st.leading) {
    st.sampling = false;
    self->delayed_send(self, st.config.interval, tick_atom_v);
    return;
  }
  self->request(st.peers.counter, st.config.request_timeout, db::slice_counts{})
    .then(
      [self, sample](db::slice_totals& totals) {
        self->state.slices = totals;
        finish_sample(self, sample);
      },
      [self, sample](caf::error& err) {
        spdlog::debug("server-monitor uses the last slice counts: {}", message_of(err));
        finish_sample(self, sample);
      });
}

} // namespace

server_monitor_actor::behavior_type
server_monitor(server_monitor_actor::stateful_pointer<server_monitor_state> self,
               server_monitor_config config, server_monitor_peers peers) {
  auto& st = self->state;
  st.config = std::move(config);
  st.peers = std::move(peers);
  st.leading = !st.config.wait_for_lease;
  // A first CPU reading now, so that the first sample already has a percentage.
  st.cpu = host::parse_cpu_times(host::read_file(st.config.proc_root + "/stat"));
  self->delayed_send(self, st.config.interval, tick_atom_v);
  return {
    [self](tick_atom) { take_sample(self); },
    [self](const lease::state& x) {
      auto& st = self->state;
      if (st.config.wait_for_lease)
        st.leading = x.held;
    },
  };
}

} // namespace slicegate
