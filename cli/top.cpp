#include "cli/top.hpp"

#include <algorithm>
#include <chrono>
#include <clocale>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <curses.h>
#include <langinfo.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "cli/connection.hpp"
#include "cli/output.hpp"
#include "cli/overview.hpp"
#include "common/duration.hpp"

namespace slicegate::cli {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// `s` cycles through the keys in this order.
constexpr sort_key cycle[] = {sort_key::status, sort_key::memory, sort_key::cpu,
                              sort_key::disk,   sort_key::id,     sort_key::user};

/// Set by SIGINT and SIGTERM: leave the loop, restore the terminal, exit 0.
volatile std::sig_atomic_t stop_requested = 0;

void request_stop(int) {
  stop_requested = 1;
}

/// The `latest_telemetry` figure `key` of slice `s`, if any.
std::optional<double> latest(const json& s, const char* key) {
  auto t = s.value("latest_telemetry", json{});
  if (!t.is_object())
    return std::nullopt;
  auto x = t.value(key, json{});
  return x.is_number() ? std::optional<double>{x.get<double>()} : std::nullopt;
}

/// Disk as sampled with the telemetry, else as the slice row records it.
std::optional<double> disk_of(const json& s) {
  if (auto x = latest(s, "disk_bytes"))
    return x;
  auto x = s.value("storage_bytes", json{});
  return x.is_number() ? std::optional<double>{x.get<double>()} : std::nullopt;
}

std::string user_of(const json& s) {
  auto email = s.value("user_email", json{});
  if (email.is_string())
    return email.get<std::string>();
  auto id = s.value("user_id", json{});
  return id.is_null() ? std::string{} : "user " + text(id);
}

int64_t id_of(const json& s) {
  auto id = s.value("id", json{});
  return id.is_number() ? id.get<int64_t>() : 0;
}

/// Whether `x` goes before `y` when larger values come first and missing ones last.
template <class T>
std::optional<bool> larger_first(const std::optional<T>& x, const std::optional<T>& y) {
  if (x && y && *x != *y)
    return *x > *y;
  if (x.has_value() != y.has_value())
    return x.has_value();
  return std::nullopt;
}

/// Whether `x` goes before `y` when smaller values come first and empty ones last.
std::optional<bool> smaller_first(const std::string& x, const std::string& y) {
  if (x.empty() != y.empty())
    return !x.empty();
  if (x != y)
    return x < y;
  return std::nullopt;
}

/// One screen line for slice `s`, in the columns of `header_line`.
struct column {
  const char* title;
  size_t width;
  bool right;
  std::optional<sort_key> key;
};

const column columns[] = {
  {"ID", 6, true, sort_key::id},           {"PORT", 6, true, std::nullopt},
  {"STATUS", 12, false, sort_key::status}, {"USER", 28, false, sort_key::user},
  {"HEALTH", 10, false, std::nullopt},     {"WHATSAPP", 14, false, std::nullopt},
  {"MEMORY", 11, true, sort_key::memory},  {"CPU", 8, true, sort_key::cpu},
  {"DISK", 11, true, sort_key::disk},
};

std::string cells_line(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < std::size(columns); ++i) {
    auto& c = columns[i];
    line += c.right ? fit_right(cells[i], c.width) : fit(cells[i], c.width);
    line += "  ";
  }
  return line;
}

/// The column titles, the sorted one marked ▼ (largest first) or ▲ (smallest first).
std::string header_line(sort_key k) {
  std::vector<std::string> cells;
  for (auto& c : columns) {
    std::string title = c.title;
    if (c.key == k)
      title += k == sort_key::memory || k == sort_key::cpu || k == sort_key::disk ? "▼" : "▲";
    cells.push_back(title);
  }
  return cells_line(cells);
}

std::string slice_line(const json& s) {
  auto healthy = s.value("healthy", json{});
  auto t = s.value("latest_telemetry", json{});
  auto disk = disk_of(s);
  return cells_line({
    field(s, "id"),
    field(s, "port"),
    field(s, "status"),
    user_of(s).empty() ? "-" : user_of(s),
    healthy.is_boolean() ? (healthy.get<bool>() ? "healthy" : "UNHEALTHY") : "-",
    t.is_object() ? field(t, "wa_state") : "-",
    t.is_object() ? bytes_text(t.value("rss_bytes", json{})) : "-",
    t.is_object() ? percent_text(t.value("cpu_percent", json{})) : "-",
    disk ? bytes_text(*disk) : "-",
  });
}

/// What the screen shows: the last good replies, and what went wrong since, if anything.
struct view {
  sort_key key = sort_key::status;
  std::chrono::milliseconds interval{2000};
  size_t scroll = 0;
  json overview = json::object();
  json slices = json::array();
  std::string error;
  std::optional<std::chrono::system_clock::time_point> updated;
};

void fetch(connection& nc, const options& o, view& v) {
  try {
    auto overview = admin_call(nc, o, "overview", "", json::object());
    auto listed = admin_call(nc, o, "slices", "list", {{"telemetry", true}});
    v.overview = std::move(overview);
    v.slices = listed.value("slices", json::array());
    v.error.clear();
    v.updated = std::chrono::system_clock::now();
  } catch (const failure& f) {
    v.error = f.message;
  } catch (const json::exception& e) {
    v.error = std::string{"unexpected reply: "} + e.what();
  }
  sort_slices(v.slices, v.key);
}

std::string clock_text(std::chrono::system_clock::time_point t, const char* format) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

/// Rows of the screen above the slice lines.
constexpr int header_rows = 7;

size_t visible_rows() {
  return static_cast<size_t>(std::max(1, LINES - header_rows));
}

/// Whether the locale's characters are UTF-8; if not, the few non-ASCII marks `top` draws
/// itself become ASCII (ncurses would show their bytes as M- sequences).
bool utf8_terminal = true;

std::string in_charset(std::string s) {
  if (utf8_terminal)
    return s;
  for (auto [from, to] :
       {std::pair<const char*, const char*>{"▼", "v"}, {"▲", "^"}, {"…", "~"}})
    for (auto i = s.find(from); i != std::string::npos; i = s.find(from, i))
      s.replace(i, std::strlen(from), to);
  return s;
}

void put(int row, const std::string& s, attr_t attributes = A_NORMAL) {
  if (row >= LINES)
    return;
  attron(attributes);
  mvaddstr(row, 0, in_charset(fit(s, static_cast<size_t>(std::max(COLS, 1)))).c_str());
  attroff(attributes);
}

void draw(const view& v) {
  erase();
  auto now = std::chrono::system_clock::now();
  put(0,
      "slicectl top  " + clock_text(now, "%Y-%m-%d %H:%M:%S UTC") + "  every "
        + render_duration(std::chrono::duration_cast<caf::timespan>(v.interval))
        + "  sort: " + std::string{to_string(v.key)}
        + "  (q quit, s next sort, m c d i u t sort by, r refresh, arrows/PgUp/PgDn scroll)",
      A_REVERSE);
  auto slices = v.overview.value("slices", json::object());
  put(1, "server   " + server_text(v.overview.value("server", json{})));
  put(2, "waiting  " + waiting_text(v.overview.value("waiting", json{})));
  put(3, "slices   " + slice_counts_text(slices) + "; " + health_counts_text(slices));
  put(4, "alerts   " + field(v.overview, "alerts_last_hour") + " in the last hour");
  auto first = std::min(v.scroll, v.slices.size());
  auto last = std::min(v.slices.size(), first + visible_rows());
  if (!v.error.empty())
    put(5,
        "error: " + v.error + " (retrying"
          + (v.updated ? "; the figures are from " + clock_text(*v.updated, "%H:%M:%S")
                       : std::string{})
          + ")",
        A_BOLD);
  else if (v.updated)
    put(5, "slices " + std::to_string(v.slices.empty() ? 0 : first + 1) + "-"
             + std::to_string(last) + " of " + std::to_string(v.slices.size()) + ", updated "
             + clock_text(*v.updated, "%H:%M:%S"));
  put(6, header_line(v.key), A_REVERSE);
  for (auto i = first; i < last; ++i) {
    auto& s = v.slices[i];
    auto healthy = s.value("healthy", json{});
    put(header_rows + static_cast<int>(i - first), slice_line(s),
        healthy.is_boolean() && !healthy.get<bool>() ? A_BOLD : A_NORMAL);
  }
  refresh();
}

/// Restores the terminal however `top` ends.
class screen {
 public:
  screen() {
    terminal_ = newterm(nullptr, stdout, stdin);
    if (!terminal_)
      throw failure{exit_code::usage,
                    "top cannot drive this terminal (TERM="
                      + std::string{std::getenv("TERM") ? std::getenv("TERM") : ""} + ")"};
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    // getch waits this long for a key, which is also how often the clock is redrawn.
    timeout(100);
  }

  ~screen() {
    endwin();
    delscreen(terminal_);
  }

  screen(const screen&) = delete;
  screen& operator=(const screen&) = delete;

 private:
  SCREEN* terminal_ = nullptr;
};

/// Handles one key; false if it asks to leave.
bool on_key(int ch, view& v, bool& refresh_now) {
  auto pick = [&](sort_key k) {
    v.key = k;
    v.scroll = 0;
    sort_slices(v.slices, v.key);
  };
  auto page = visible_rows();
  auto max_scroll = v.slices.size() > page ? v.slices.size() - page : 0;
  switch (ch) {
    case 'q':
    case 'Q':
    case 3: // Ctrl-C, should the terminal deliver it as a key
      return false;
    case 's': {
      auto i = std::find(std::begin(cycle), std::end(cycle), v.key) - std::begin(cycle);
      pick(cycle[(static_cast<size_t>(i) + 1) % std::size(cycle)]);
      break;
    }
    case 'm': pick(sort_key::memory); break;
    case 'c': pick(sort_key::cpu); break;
    case 'd': pick(sort_key::disk); break;
    case 'i': pick(sort_key::id); break;
    case 'u': pick(sort_key::user); break;
    case 't': pick(sort_key::status); break;
    case 'r': refresh_now = true; break;
    case KEY_UP: v.scroll = v.scroll > 0 ? v.scroll - 1 : 0; break;
    case KEY_DOWN: v.scroll = std::min(max_scroll, v.scroll + 1); break;
    case KEY_PPAGE: v.scroll = v.scroll > page ? v.scroll - page : 0; break;
    case KEY_NPAGE: v.scroll = std::min(max_scroll, v.scroll + page); break;
    case KEY_HOME: v.scroll = 0; break;
    case KEY_END: v.scroll = max_scroll; break;
    default: break;
  }
  v.scroll = std::min(v.scroll, max_scroll);
  return true;
}

} // namespace

std::string_view to_string(sort_key k) {
  switch (k) {
    case sort_key::status: return "status";
    case sort_key::memory: return "memory";
    case sort_key::cpu: return "cpu";
    case sort_key::disk: return "disk";
    case sort_key::id: return "id";
    case sort_key::user: return "user";
  }
  return "status";
}

std::optional<sort_key> sort_key_from(std::string_view word) {
  for (auto k : cycle)
    if (to_string(k) == word)
      return k;
  return std::nullopt;
}

void sort_slices(json& slices, sort_key k) {
  if (!slices.is_array())
    return;
  auto before = [k](const json& x, const json& y) -> std::optional<bool> {
    switch (k) {
      case sort_key::status: return smaller_first(field(x, "status"), field(y, "status"));
      case sort_key::memory:
        return larger_first(latest(x, "rss_bytes"), latest(y, "rss_bytes"));
      case sort_key::cpu:
        return larger_first(latest(x, "cpu_percent"), latest(y, "cpu_percent"));
      case sort_key::disk: return larger_first(disk_of(x), disk_of(y));
      case sort_key::user: return smaller_first(user_of(x), user_of(y));
      case sort_key::id: return std::nullopt;
    }
    return std::nullopt;
  };
  std::stable_sort(slices.begin(), slices.end(), [&](const json& x, const json& y) {
    if (auto b = before(x, y))
      return *b;
    return id_of(x) < id_of(y);
  });
}

int top(const options& o) {
  if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
    throw failure{exit_code::usage, "top needs a terminal; for scripts use "
                                    "`slicectl --json overview` and `slicectl --json slices "
                                    "list`"};
  auto key = sort_key_from(o.sort);
  if (!key)
    throw failure{exit_code::usage, "--sort expects status, memory, cpu, disk, id or user"};
  view v;
  v.key = *key;
  v.interval = positive_duration(o.interval, "--interval");
  session_of(o);
  connection nc{o, timeout_of(o), reconnects::quietly};
  // Wide characters (▼, …, the e-mails of users) need the locale before the screen.
  std::setlocale(LC_ALL, "");
  utf8_terminal = std::string_view{nl_langinfo(CODESET)} == "UTF-8";
  screen terminal;
  // After newterm, which installs handlers of its own that would end the process at once.
  struct sigaction sa {};
  sa.sa_handler = request_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto next = std::chrono::steady_clock::now();
  bool refresh_now = true;
  while (!stop_requested) {
    if (refresh_now || std::chrono::steady_clock::now() >= next) {
      if (!v.updated && v.error.empty())
        draw(v); // the frame, while the first replies are on their way
      fetch(nc, o, v);
      next = std::chrono::steady_clock::now() + v.interval;
      refresh_now = false;
    }
    draw(v);
    auto ch = getch();
    if (ch != ERR && !on_key(ch, v, refresh_now))
      break;
  }
  return exit_code::ok;
}

} // namespace slicegate::cli
