#include "web/prometheus.hpp"

#include <charconv>
#include <cmath>

namespace slicegate::web {

std::string escape_label_value(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  for (auto c : text) {
    if (c == '\\')
      result += "\\\\";
    else if (c == '"')
      result += "\\\"";
    else if (c == '\n')
      result += "\\n";
    else
      result += c;
  }
  return result;
}

std::string format_value(double x) {
  if (std::isnan(x))
    return "NaN";
  if (std::isinf(x))
    return x > 0 ? "+Inf" : "-Inf";
  // Plain decimals read best ("0.005", not "5e-03"); a number too long for that is written
  // in the general form.
  char buf[64];
  auto [end, err] = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::fixed);
  if (err != std::errc{})
    end = std::to_chars(buf, buf + sizeof(buf), x).ptr;
  return std::string(buf, end);
}

void exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  // HELP text escapes backslash and newline only.
  for (auto c : help) {
    if (c == '\\')
      out_ += "\\\\";
    else if (c == '\n')
      out_ += "\\n";
    else
      out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void exposition::sample(std::string_view name, const labels& l, double value) {
  out_ += name;
  if (!l.empty()) {
    out_ += '{';
    bool first = true;
    for (auto& [key, val] : l) {
      if (!first)
        out_ += ',';
      first = false;
      out_ += key;
      out_ += "=\"";
      out_ += escape_label_value(val);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void exposition::histogram(std::string_view name, const labels& l,
                           const std::vector<double>& bounds,
                           const std::vector<uint64_t>& counts, double sum) {
  std::string base{name};
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    auto with_le = l;
    with_le.emplace_back("le", i < bounds.size() ? format_value(bounds[i]) : "+Inf");
    sample(base + "_bucket", with_le, static_cast<double>(cumulative));
  }
  sample(base + "_sum", l, sum);
  sample(base + "_count", l, static_cast<double>(cumulative));
}

} // namespace slicegate::web
