#include "common/duration.hpp"

#include <regex>

namespace slicegate {

std::optional<caf::timespan> parse_duration(const std::string& text) {
  static const std::regex pattern{R"(^\s*(\d{1,12})\s*(ms|s|m|h|d)\s*$)"};
  std::smatch m;
  if (!std::regex_match(text, m, pattern))
    return std::nullopt;
  auto n = std::stoll(m[1]);
  auto unit = m[2].str();
  using namespace std::chrono;
  if (unit == "ms")
    return duration_cast<caf::timespan>(milliseconds{n});
  if (unit == "s")
    return duration_cast<caf::timespan>(seconds{n});
  if (unit == "m")
    return duration_cast<caf::timespan>(minutes{n});
  if (unit == "h")
    return duration_cast<caf::timespan>(hours{n});
  return duration_cast<caf::timespan>(hours{24 * n});
}

std::string render_duration(caf::timespan x) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(x).count();
  struct unit {
    int64_t size;
    const char* suffix;
  };
  for (auto u :
       {unit{86'400'000, "d"}, unit{3'600'000, "h"}, unit{60'000, "m"}, unit{1000, "s"}})
    if (ms != 0 && ms % u.size == 0)
      return std::to_string(ms / u.size) + u.suffix;
  return std::to_string(ms) + "ms";
}

} // namespace slicegate
