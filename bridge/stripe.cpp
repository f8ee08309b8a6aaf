#include "bridge/stripe.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

namespace slicegate::stripe {

namespace {

using json = nlohmann::json;

/// Stripe ids (`evt_…`, `cus_…`, `sub_…`) and event types are far shorter; the bound only
/// limits what a hostile message can make us store.
constexpr size_t max_id = 255;
/// Stripe caps `client_reference_id` at 200 characters.
constexpr size_t max_reference = 200;
/// RFC 5321 caps a forward path at 256 octets including the angle brackets.
constexpr size_t max_email = 254;
/// `caf::timestamp` counts nanoseconds in 64 bits, which runs out in 2262; Stripe times are
/// Unix seconds well inside [0, 2200-01-01).
constexpr int64_t max_unix_seconds = 7'258'118'400;

/// Reads the fields of one Stripe object, remembering the first problem as the reason to
/// reject the message. Absent and null fields read as none: Stripe sends null for most
/// fields that do not apply.
class reader {
public:
  reader(const json& object, std::string path) : object_(object), path_(std::move(path)) {
    // nop
  }

  /// A string without control characters of at most `max_size` bytes; an empty string reads
  /// as none.
  optional<std::string> text(const char* name, size_t max_size) {
    auto value = find(name);
    if (!value)
      return caf::none;
    if (!value->is_string()) {
      fail(name, "expected a string");
      return caf::none;
    }
    auto& str = value->get_ref<const std::string&>();
    if (str.size() > max_size) {
      fail(name, "longer than " + std::to_string(max_size) + " bytes");
      return caf::none;
    }
    // Control characters have no place in ids, types or e-mail addresses; U+0000 would even
    // cut a database parameter short.
    auto is_control = [](unsigned char c) {
      return c < 0x20 || c == 0x7f;
    };
    if (std::any_of(str.begin(), str.end(), is_control)) {
      fail(name, "contains control characters");
      return caf::none;
    }
    if (str.empty())
      return caf::none;
    return str;
  }

  /// An expandable reference: an id, or an expanded object carrying it as `id`.
  optional<std::string> reference(const char* name) {
    auto value = find(name);
    if (!value)
      return caf::none;
    if (value->is_object()) {
      reader expanded{*value, path_of(name)};
      auto id = expanded.text("id", max_id);
      adopt(expanded);
      return id;
    }
    return text(name, max_id);
  }

  /// A Unix time in seconds.
  optional<timestamp> time(const char* name) {
    auto value = find(name);
    if (!value)
      return caf::none;
    int64_t seconds = -1;
    if (value->is_number_unsigned()) {
      auto x = value->get<uint64_t>();
      if (x <= static_cast<uint64_t>(max_unix_seconds))
        seconds = static_cast<int64_t>(x);
    } else if (value->is_number_integer()) {
      seconds = value->get<int64_t>();
    }
    if (seconds < 0 || seconds > max_unix_seconds) {
      fail(name, "expected a Unix time");
      return caf::none;
    }
    return timestamp{std::chrono::duration_cast<timespan>(std::chrono::seconds{seconds})};
  }

  /// A nested object; nullptr if absent or null.
  const json* object(const char* name) {
    auto value = find(name);
    if (value && !value->is_object()) {
      fail(name, "expected an object");
      return nullptr;
    }
    return value;
  }

  /// The objects of a Stripe list (`{"object": "list", "data": […]}`), or an empty range.
  std::vector<const json*> list(const char* name) {
    std::vector<const json*> result;
    auto value = object(name);
    if (!value)
      return result;
    auto data = value->find("data");
    if (data == value->end() || data->is_null())
      return result;
    if (!data->is_array()) {
      fail(std::string{name} + ".data", "expected an array");
      return result;
    }
    for (auto& element : *data) {
      if (!element.is_object()) {
        fail(std::string{name} + ".data", "expected an array of objects");
        return {};
      }
      result.push_back(&element);
    }
    return result;
  }

  /// The path of field `name`, as reasons name it.
  std::string path_of(const std::string& name) const {
    return path_.empty() ? name : path_ + "." + name;
  }

  /// Records a reason of the caller's own (a missing required field, a wrong kind).
  void fail(const std::string& name, const std::string& what) {
    if (problem_.empty())
      problem_ = "field '" + path_of(name) + "': " + what;
  }

  /// Takes over the problem of a reader of a nested object, unless there is one already.
  void adopt(const reader& nested) {
    if (problem_.empty())
      problem_ = nested.problem_;
  }

  bool ok() const {
    return problem_.empty();
  }

  const std::string& problem() const {
    return problem_;
  }

private:
  const json* find(const char* name) const {
    auto i = object_.find(name);
    if (i == object_.end() || i->is_null())
      return nullptr;
    return &*i;
  }

  const json& object_;
  std::string path_;
  std::string problem_;
};

/// The latest of `times`, or none.
optional<timestamp> latest(const std::vector<optional<timestamp>>& times) {
  optional<timestamp> result;
  for (auto& t : times)
    if (t && (!result || *t > *result))
      result = t;
  return result;
}

/// A user id written as a decimal `client_reference_id`; none for any other reference.
optional<int32_t> user_id_of(const optional<std::string>& reference) {
  if (!reference)
    return caf::none;
  auto& str = *reference;
  int32_t id = 0;
  auto [end, err] = std::from_chars(str.data(), str.data() + str.size(), id);
  if (err != std::errc{} || end != str.data() + str.size() || id <= 0)
    return caf::none;
  return id;
}

/// The Stripe `object` name that events of `type` carry in `data.object`.
const char* object_name(billing::event_type type) {
  using billing::event_type;
  switch (type) {
    case event_type::checkout_session_completed: return "checkout.session";
    case event_type::invoice_paid:
    case event_type::invoice_payment_failed: return "invoice";
    case event_type::subscription_created:
    case event_type::subscription_updated:
    case event_type::subscription_deleted:
    case event_type::subscription_paused:
    case event_type::subscription_resumed: return "subscription";
  }
  return "subscription";
}

void read_checkout(reader& obj, billing::stripe_event& x) {
  x.customer = obj.reference("customer");
  x.subscription_id = obj.reference("subscription");
  x.client_reference_id = user_id_of(obj.text("client_reference_id", max_reference));
  if (auto details = obj.object("customer_details")) {
    reader r{*details, obj.path_of("customer_details")};
    x.customer_email = r.text("email", max_email);
    obj.adopt(r);
  }
  if (!x.customer_email)
    x.customer_email = obj.text("customer_email", max_email);
}

void read_subscription(reader& obj, billing::stripe_event& x) {
  x.customer = obj.reference("customer");
  x.subscription_id = obj.text("id", max_id);
  x.stripe_status = obj.text("status", max_id);
  // Which of a customer's subscriptions is newer (persistence/billing.cpp).
  x.subscription_created = obj.time("created");
  // ended_at, else cancel_at, else the current period end, else trial_end (DESIGN.md §4).
  // Read every candidate, so that a malformed one rejects the event whichever is used.
  auto ended_at = obj.time("ended_at");
  auto cancel_at = obj.time("cancel_at");
  auto top_level_period_end = obj.time("current_period_end");
  std::vector<optional<timestamp>> item_period_ends;
  for (auto item : obj.list("items")) {
    reader r{*item, obj.path_of("items.data[]")};
    item_period_ends.push_back(r.time("current_period_end"));
    obj.adopt(r);
  }
  auto trial_end = obj.time("trial_end");
  // Items of one subscription share a period unless billed flexibly; then it lasts until the
  // latest.
  auto period_end = top_level_period_end ? top_level_period_end : latest(item_period_ends);
  x.subscription_ends_at = ended_at     ? ended_at
                           : cancel_at  ? cancel_at
                           : period_end ? period_end
                                        : trial_end;
  if (!x.subscription_id)
    obj.fail("id", "missing");
  if (!x.stripe_status)
    obj.fail("status", "missing");
}

void read_invoice(reader& obj, billing::stripe_event& x) {
  x.customer = obj.reference("customer");
  x.subscription_id = obj.reference("subscription");
  if (auto parent = obj.object("parent")) {
    reader p{*parent, obj.path_of("parent")};
    if (auto details = p.object("subscription_details")) {
      reader d{*details, p.path_of("subscription_details")};
      auto nested = d.reference("subscription");
      if (!x.subscription_id)
        x.subscription_id = nested;
      p.adopt(d);
    }
    obj.adopt(p);
  }
  std::vector<optional<timestamp>> line_period_ends;
  for (auto line : obj.list("lines")) {
    reader r{*line, obj.path_of("lines.data[]")};
    if (auto period = r.object("period")) {
      reader p{*period, r.path_of("period")};
      line_period_ends.push_back(p.time("end"));
      r.adopt(p);
    }
    obj.adopt(r);
  }
  x.subscription_ends_at = latest(line_period_ends);
}

/// `body`, valid JSON text, with every `\u0000` escape written `\ufffd` (U+FFFD, the
/// replacement character): PostgreSQL holds U+0000 neither in jsonb nor in text, and the audit
/// trail must take every payload. Everything else stays as Stripe sent it.
std::string storable(std::string_view body) {
  static constexpr std::string_view nul = "\\u0000";
  std::string result;
  result.reserve(body.size());
  // In valid JSON a backslash appears only inside strings and always starts an escape, so
  // walking escape by escape never mistakes an escaped backslash followed by "u0000" for one.
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\') {
      result += body[i];
      continue;
    }
    if (body.substr(i, nul.size()) == nul) {
      result += "\\ufffd";
      i += nul.size() - 1;
      continue;
    }
    result += body[i];
    if (i + 1 < body.size())
      result += body[++i];
  }
  return result;
}

} // namespace

parsed parse_event(std::string_view body) {
  // Without exceptions: a parse error yields a discarded value. The parser validates UTF-8.
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded())
    return rejected{caf::none, "not JSON"};
  if (!doc.is_object())
    return rejected{caf::none, "not a JSON object"};
  reader envelope{doc, ""};
  auto id = envelope.text("id", max_id);
  if (!envelope.ok())
    return rejected{caf::none, envelope.problem()};
  if (!id)
    return rejected{caf::none, "field 'id': missing"};
  auto type_name = envelope.text("type", max_id);
  auto created = envelope.time("created");
  auto data = envelope.object("data");
  if (envelope.ok() && !type_name)
    envelope.fail("type", "missing");
  if (envelope.ok() && !created)
    envelope.fail("created", "missing");
  if (envelope.ok() && !data)
    envelope.fail("data", "missing");
  const json* object = nullptr;
  if (envelope.ok()) {
    reader d{*data, "data"};
    object = d.object("object");
    if (d.ok() && !object)
      d.fail("object", "missing");
    envelope.adopt(d);
  }
  if (!envelope.ok())
    return rejected{id, envelope.problem()};
  auto type = billing::parse_event_type(*type_name);
  if (!type)
    return ignored{*id, *type_name};
  reader obj{*object, "data.object"};
  auto kind = obj.text("object", max_id);
  if (kind && *kind != object_name(*type))
    return rejected{id, "field 'data.object.object': a " + *type_name + " event carries a "
                          + object_name(*type) + ", not a " + *kind};
  billing::stripe_event x;
  x.event_id = *id;
  x.type = *type;
  x.created = *created;
  x.payload = storable(body);
  switch (*type) {
    case billing::event_type::checkout_session_completed:
      read_checkout(obj, x);
      break;
    case billing::event_type::invoice_paid:
    case billing::event_type::invoice_payment_failed:
      read_invoice(obj, x);
      break;
    case billing::event_type::subscription_created:
    case billing::event_type::subscription_updated:
    case billing::event_type::subscription_deleted:
    case billing::event_type::subscription_paused:
    case billing::event_type::subscription_resumed:
      read_subscription(obj, x);
      break;
  }
  // A subscription or an invoice belongs to a customer; without one it can never apply.
  if (obj.ok() && !x.customer && *type != billing::event_type::checkout_session_completed)
    obj.fail("customer", "missing");
  if (!obj.ok())
    return rejected{id, obj.problem()};
  return x;
}

} // namespace slicegate::stripe
