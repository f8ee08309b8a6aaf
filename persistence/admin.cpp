#include "persistence/admin.hpp"

#include <charconv>
#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "messages/error.hpp"
#include "persistence/detail/rows.hpp"

namespace slicegate::admin_store {

namespace {

using detail::to_sql;

/// Billing events `users.get` shows.
constexpr int32_t billing_events_shown = 10;

/// Most users one page may hold.
constexpr int32_t max_page = 1000;

using detail::get_optional;

optional<timestamp> get_time(const pqxx::field& micros) {
  if (micros.is_null())
    return caf::none;
  return detail::from_micros(micros.as<int64_t>());
}

template <class T>
std::optional<T> to_sql(const optional<T>& x) {
  if (!x)
    return std::nullopt;
  return *x;
}

/// `text` with LIKE's wildcards and its escape character escaped, so that it matches itself.
std::string like_literal(const std::string& text) {
  std::string result;
  result.reserve(text.size());
  for (auto c : text) {
    if (c == '\\' || c == '%' || c == '_')
      result += '\\';
    result += c;
  }
  return result;
}

caf::error check_range(const admin::series_range& x) {
  if (x.bucket_seconds < 1)
    return make_error(ec::invalid_request, "bucket must be at least 1 s");
  if (x.to <= x.from)
    return make_error(ec::invalid_request, "from must be before to");
  if (admin::bucket_count(x) > admin::max_series_points)
    return make_error(ec::invalid_request, "too many points");
  return {};
}

/// A numeric column, parsed with `std::from_chars` (libpqxx 6 parses floating point through a
/// string stream); none for NULL. A value that does not parse is a conversion error, as
/// libpqxx would report it.
template <class T>
optional<T> number(const pqxx::field& field) {
  if (field.is_null())
    return caf::none;
  T x{};
  auto first = field.c_str();
  auto last = first + field.size();
  auto [end, err] = std::from_chars(first, last, x);
  if (err != std::errc{} || end != last)
    throw pqxx::conversion_error{"a series column is not a number"};
  return x;
}

timestamp bucket_start(const pqxx::field& seconds) {
  return timestamp{std::chrono::seconds{seconds.as<int64_t>()}};
}

} // namespace

caf::expected<admin::user_page> list_users(detail::link& gateway, const admin::list_users& x) {
  if (x.limit < 1 || x.limit > max_page)
    return make_error(ec::invalid_request,
                      "limit must be between 1 and " + std::to_string(max_page));
  std::optional<std::string> prefix;
  if (x.email_prefix)
    prefix = like_literal(*x.email_prefix);
  std::optional<std::string> after_time;
  std::optional<int32_t> after_id;
  if (x.after) {
    after_time = to_sql(x.after->created_at);
    after_id = x.after->id;
  }
  return gateway.run([&](pqxx::connection& c) {
    pqxx::read_transaction tx{c};
    // One more than asked for tells whether another page follows.
    auto rows = tx.exec_prepared("admin_list_users", to_sql(x.status), to_sql(x.waiting),
                                 to_sql(x.is_admin), prefix, after_time, after_id,
                                 x.oldest_first, x.limit + 1);
    tx.commit();
    admin::user_page page;
    for (const auto& row : rows) {
      if (static_cast<int32_t>(page.users.size()) == x.limit) {
        auto& last = page.users.back();
        page.next = admin::page_key{last.created_at, last.id};
        break;
      }
      page.users.push_back(detail::to_user(row));
    }
    return page;
  });
}

caf::expected<admin::user_detail> get_user(detail::link& gateway, const admin::get_user& x) {
  return gateway.run([&x](pqxx::connection& c) -> caf::expected<admin::user_detail> {
    pqxx::read_transaction tx{c};
    auto user = tx.exec_prepared("get_user", x.user_id);
    if (user.empty())
      return make_error(ec::not_found, "no user " + std::to_string(x.user_id));
    auto placement = tx.exec_prepared1("pool_placement", x.user_id, to_sql(x.now));
    auto sessions = tx.exec_prepared1("admin_user_sessions", x.user_id, to_sql(x.now),
                                      to_sql(x.sessions_created_after));
    auto billing = tx.exec_prepared("admin_user_billing", x.user_id, billing_events_shown);
    tx.commit();
    admin::user_detail result;
    result.user = detail::to_user(user[0]);
    if (!placement["slice_id"].is_null())
      result.slice = detail::to_slice(placement, "slice_");
    result.waiting_position = get_optional<int32_t>(placement["waiting_position"]);
    result.live_sessions = sessions["live"].as<int32_t>();
    for (const auto& row : billing) {
      admin::billing_entry e;
      e.event_id = row["event_id"].as<std::string>();
      e.type = row["type"].as<std::string>();
      e.stripe_status = get_optional<std::string>(row["stripe_status"]);
      e.mapped_status = get_optional<std::string>(row["mapped_status"]);
      e.stripe_created = detail::from_micros(row["stripe_created_us"].as<int64_t>());
      e.received_at = detail::from_micros(row["received_at_us"].as<int64_t>());
      e.applied_at = get_time(row["applied_at_us"]);
      result.billing_events.push_back(std::move(e));
    }
    return result;
  });
}

caf::expected<std::vector<admin::slice_point>> slice_series(detail::link& gateway,
                                                            const admin::slice_series& x) {
  if (auto err = check_range(x.range))
    return err;
  return gateway.run(
    [&x](pqxx::connection& c) -> caf::expected<std::vector<admin::slice_point>> {
      pqxx::read_transaction tx{c};
      auto found = tx.exec_prepared1("admin_slice_exists", x.slice_id);
      if (!found["found"].as<bool>())
        return make_error(ec::not_found, "no slice " + std::to_string(x.slice_id));
      auto rows = tx.exec_prepared("admin_slice_series", x.slice_id, to_sql(x.range.from),
                                   to_sql(x.range.to), x.range.bucket_seconds);
      tx.commit();
      // A series has thousands of rows: columns are looked up once, numbers parsed without
      // streams.
      auto col = [&rows](const char* name) {
        return rows.column_number(name);
      };
      auto c_bucket = col("bucket_s"), c_samples = col("samples"),
           c_rss_avg = col("rss_bytes_avg"), c_rss_max = col("rss_bytes_max"),
           c_cpu_avg = col("cpu_percent_avg"), c_cpu_max = col("cpu_percent_max"),
           c_disk = col("disk_bytes_last"), c_share = col("wa_connected_share");
      std::vector<admin::slice_point> result;
      result.reserve(rows.size());
      for (const auto& row : rows) {
        admin::slice_point p;
        p.at = timestamp{std::chrono::seconds{number<int64_t>(row[c_bucket]).value_or(0)}};
        p.samples = static_cast<int32_t>(number<int64_t>(row[c_samples]).value_or(0));
        p.rss_bytes_avg = number<double>(row[c_rss_avg]);
        p.rss_bytes_max = number<int64_t>(row[c_rss_max]);
        p.cpu_percent_avg = number<double>(row[c_cpu_avg]);
        p.cpu_percent_max = number<double>(row[c_cpu_max]);
        p.disk_bytes_last = number<int64_t>(row[c_disk]);
        p.wa_connected_share = number<double>(row[c_share]).value_or(0);
        result.push_back(p);
      }
      return result;
    });
}

caf::expected<std::vector<admin::server_point>> server_series(detail::link& gateway,
                                                              const admin::server_series& x) {
  if (auto err = check_range(x.range))
    return err;
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::read_transaction tx{c};
    auto rows = tx.exec_prepared("admin_server_series", to_sql(x.range.from),
                                 to_sql(x.range.to), x.range.bucket_seconds);
    tx.commit();
    std::vector<admin::server_point> result;
    result.reserve(rows.size());
    for (const auto& row : rows) {
      admin::server_point p;
      p.at = bucket_start(row["bucket_s"]);
      p.samples = row["samples"].as<int32_t>();
      p.ram_used_bytes_avg = row["ram_used_bytes_avg"].as<double>(0);
      p.ram_used_bytes_max = row["ram_used_bytes_max"].as<int64_t>(0);
      p.ram_total_bytes = row["ram_total_bytes"].as<int64_t>(0);
      p.swap_used_bytes_avg = row["swap_used_bytes_avg"].as<double>(0);
      p.swap_total_bytes = row["swap_total_bytes"].as<int64_t>(0);
      p.cpu_percent_avg = row["cpu_percent_avg"].as<double>(0);
      p.cpu_percent_max = row["cpu_percent_max"].as<double>(0);
      p.disk_used_bytes_last = row["disk_used_bytes_last"].as<int64_t>(0);
      p.disk_total_bytes = row["disk_total_bytes"].as<int64_t>(0);
      p.active_slices_last = row["active_slices_last"].as<int32_t>(0);
      p.total_slices_last = row["total_slices_last"].as<int32_t>(0);
      result.push_back(p);
    }
    return result;
  });
}

caf::expected<std::vector<admin::slice_view>>
list_slice_views(detail::link& gateway, const admin::list_slice_views& x) {
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::read_transaction tx{c};
    auto rows = tx.exec_prepared("slice_list_telemetry", to_sql(x.status));
    tx.commit();
    std::vector<admin::slice_view> result;
    result.reserve(rows.size());
    for (const auto& row : rows) {
      admin::slice_view v;
      v.slice = detail::to_slice(row);
      v.user_email = get_optional<std::string>(row["user_email"]);
      if (!row["at_us"].is_null())
        v.latest = detail::to_sample(row);
      result.push_back(std::move(v));
    }
    return result;
  });
}

caf::expected<admin::overview> overview(detail::link& gateway, const admin::get_overview& x) {
  if (x.max_alerts < 0)
    return make_error(ec::invalid_request, "max_alerts must not be negative");
  return gateway.run([&x](pqxx::connection& c) {
    // One snapshot: the counts add up even while slices and users change.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{c};
    auto slices = tx.exec_prepared1("admin_overview_slices");
    auto users = tx.exec_prepared1("admin_overview_users");
    auto server = tx.exec_prepared("admin_latest_server_sample");
    auto alerts = tx.exec_prepared("admin_recent_alerts", to_sql(x.alerts_since), x.max_alerts);
    tx.commit();
    admin::overview o;
    o.at = detail::from_micros(slices["now_us"].as<int64_t>());
    o.slices_total = slices["total"].as<int32_t>();
    o.available = slices["available"].as<int32_t>();
    o.assigned = slices["assigned"].as<int32_t>();
    o.suspended = slices["suspended"].as<int32_t>();
    o.destroying = slices["destroying"].as<int32_t>();
    o.healthy = slices["healthy"].as<int32_t>();
    o.unhealthy = slices["unhealthy"].as<int32_t>();
    o.unchecked = slices["unchecked"].as<int32_t>();
    o.users_total = users["total"].as<int32_t>();
    o.trial = users["trial"].as<int32_t>();
    o.active = users["active"].as<int32_t>();
    o.past_due = users["past_due"].as<int32_t>();
    o.cancelled = users["cancelled"].as<int32_t>();
    o.admins = users["admins"].as<int32_t>();
    o.waiting = users["waiting"].as<int32_t>();
    o.oldest_waiting_since = get_time(users["oldest_waiting_us"]);
    if (!server.empty()) {
      auto& row = server[0];
      server_sample s;
      s.at = detail::from_micros(row["at_us"].as<int64_t>());
      s.ram_used_bytes = row["ram_used_bytes"].as<int64_t>(0);
      s.ram_total_bytes = row["ram_total_bytes"].as<int64_t>(0);
      s.swap_used_bytes = row["swap_used_bytes"].as<int64_t>(0);
      s.swap_total_bytes = row["swap_total_bytes"].as<int64_t>(0);
      s.cpu_percent = row["cpu_percent"].as<float>(0);
      s.disk_used_bytes = row["disk_used_bytes"].as<int64_t>(0);
      s.disk_total_bytes = row["disk_total_bytes"].as<int64_t>(0);
      s.active_slices = row["active_slices"].as<int32_t>(0);
      s.total_slices = row["total_slices"].as<int32_t>(0);
      o.server = s;
    }
    for (const auto& row : alerts) {
      events::slice_alert a;
      a.slice_id = row["slice_id"].as<int32_t>();
      a.at = detail::from_micros(row["at_us"].as<int64_t>());
      auto kind = from_string<events::alert_kind>(row["kind"].as<std::string>());
      if (!kind)
        throw pqxx::conversion_error{"unknown alert kind"};
      a.kind = *kind;
      a.detail = row["detail"].as<std::string>();
      o.alerts_total = row["total"].as<int32_t>();
      o.alerts.push_back(std::move(a));
    }
    return o;
  });
}

caf::expected<int64_t> insert_alerts(detail::link& gateway, const admin::insert_alerts& x) {
  if (x.alerts.empty())
    return int64_t{0};
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::work tx{c};
    for (auto& a : x.alerts)
      tx.exec_prepared("alerts_insert", a.slice_id, to_sql(a.at), to_string(a.kind), a.detail);
    tx.commit();
    return static_cast<int64_t>(x.alerts.size());
  });
}

caf::expected<int64_t> prune_alerts(detail::link& gateway, const admin::prune_alerts& x) {
  if (x.batch <= 0)
    return make_error(ec::invalid_request, "batch must be positive");
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::work tx{c};
    auto rows = tx.exec_prepared("retention_prune_alerts", to_sql(x.cutoff), x.batch);
    tx.commit();
    return static_cast<int64_t>(rows.affected_rows());
  });
}

} // namespace slicegate::admin_store
