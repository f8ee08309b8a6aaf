#include "cli/dead_letters.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/connection.hpp"
#include "cli/output.hpp"

namespace slicegate::cli {

using nlohmann::json;

namespace {

/// Longest reason a table row shows; `show` prints it whole.
constexpr size_t reason_width = 60;

std::string body_of(const json& letter) {
  if (auto text = letter.value("payload", json{}); text.is_string())
    return text.get<std::string>();
  return "(not UTF-8; base64) " + field(letter, "payload_base64");
}

int list(const options& o) {
  json fields = json::object();
  if (o.after > 0)
    fields["after"] = o.after;
  if (o.limit > 0)
    fields["limit"] = o.limit;
  if (o.include_replayed)
    fields["include_replayed"] = true;
  auto reply = admin_call(o, "dead_letters", "list", fields);
  if (o.json) {
    print_json(reply);
    return exit_code::ok;
  }
  std::vector<std::vector<std::string>> rows{
    {"ID", "SUBJECT", "EVENT", "REJECTED", "DELIVERIES", "REPLAYED", "REASON"}};
  for (auto& x : reply.value("dead_letters", json::array()))
    rows.push_back({field(x, "id"), field(x, "subject"), field(x, "event_id"),
                    time_text(x.value("rejected_at", json{})), field(x, "deliveries"),
                    time_text(x.value("replayed_at", json{})),
                    fit(field(x, "reason"), reason_width)});
  print_table(rows);
  auto next = reply.value("next_after", json{});
  if (next.is_number() && rows.size() > 1)
    std::cout << "more, if any: slicectl dead-letters list --after " << text(next)
              << (o.include_replayed ? " --all" : "") << '\n';
  return exit_code::ok;
}

int show(const options& o) {
  auto reply = admin_call(o, "dead_letters", "get", {{"id", o.dead_letter_id}});
  if (o.json) {
    print_json(reply);
    return exit_code::ok;
  }
  auto& x = reply["dead_letter"];
  print_table({
    {"id", field(x, "id")},
    {"subject", field(x, "subject")},
    {"event id", field(x, "event_id")},
    {"reason", field(x, "reason")},
    {"stream sequence", field(x, "stream_sequence")},
    {"deliveries", field(x, "deliveries")},
    {"rejected", time_text(x.value("rejected_at", json{}))},
    {"replayed", time_text(x.value("replayed_at", json{})) + " (" + field(x, "replays")
                   + " replays)"},
  });
  std::cout << '\n' << body_of(x) << '\n';
  return exit_code::ok;
}

int replay(const options& o) {
  json fields{{"id", o.dead_letter_id}};
  if (o.force)
    fields["force"] = true;
  auto reply = admin_call(o, "dead_letters", "replay", fields);
  if (o.json) {
    print_json(reply);
    return exit_code::ok;
  }
  auto& x = reply["dead_letter"];
  std::cout << "dead letter " << field(x, "id") << " published again on " << field(x, "subject")
            << " (stream sequence " << field(reply, "stream_sequence") << ")\n";
  return exit_code::ok;
}

} // namespace

int dead_letters(const options& o, const std::string& verb) {
  if (verb == "list")
    return list(o);
  if (verb == "show")
    return show(o);
  return replay(o);
}

} // namespace slicegate::cli
