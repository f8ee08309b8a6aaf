#include "cli/options.hpp"

#include "common/duration.hpp"

namespace slicegate::cli {

std::chrono::milliseconds positive_duration(const std::string& text, std::string_view flag) {
  auto d = parse_duration(text);
  auto ms = d ? std::chrono::duration_cast<std::chrono::milliseconds>(*d)
              : std::chrono::milliseconds{0};
  if (ms.count() <= 0)
    throw failure{exit_code::usage,
                  std::string{flag} + " expects a duration such as 500ms, 5s, 5m, 1h or 7d"};
  return ms;
}

std::chrono::milliseconds timeout_of(const options& o) {
  return positive_duration(o.timeout, "--timeout");
}

const std::string& session_of(const options& o) {
  if (o.session.empty())
    throw failure{exit_code::usage, "no session: pass --session or set SLICEGATE_SESSION "
                                    "(slicectl login prints one)"};
  return o.session;
}

} // namespace slicegate::cli
