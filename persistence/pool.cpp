#include "persistence/pool.hpp"

#include <chrono>
#include <optional>
#include <string>

#include <map>

#include <pqxx/pqxx>

#include "messages/error.hpp"
#include "persistence/detail/rows.hpp"

namespace slicegate::pool_store {

namespace {

using detail::to_sql;

/// Most slices one request may provision; a larger pool is grown in several requests, so no
/// single transaction holds the port lock for long.
constexpr int32_t max_insert = 1000;

/// How long an idempotency key is remembered, as create_request_prune takes it.
constexpr auto window_seconds
  = std::chrono::duration_cast<std::chrono::seconds>(db::idempotency_window).count();

/// Most users one assignment transaction pairs; keeps its row locks short-lived.
constexpr int32_t max_assign_batch = 1000;

std::optional<int32_t> to_sql(const optional<int32_t>& x) {
  if (!x)
    return std::nullopt;
  return *x;
}

using detail::get_optional;

/// The comma-separated list slice_transition takes (libpqxx 6 binds no arrays).
std::string status_list(const std::vector<slice_status>& xs) {
  std::string result;
  for (auto x : xs) {
    if (!result.empty())
      result += ',';
    result += to_sql(x);
  }
  return result;
}

/// The ids of `xs` as create_request_insert takes them, e.g. "4,5,6".
std::string id_list(const std::vector<slice_record>& xs) {
  std::string result;
  for (auto& x : xs) {
    if (!result.empty())
      result += ',';
    result += std::to_string(x.id);
  }
  return result;
}

std::string slice_name(int32_t id) {
  return "slice " + std::to_string(id);
}

std::vector<slice_record> to_slices(const pqxx::result& rows) {
  std::vector<slice_record> result;
  result.reserve(rows.size());
  for (const auto& row : rows)
    result.push_back(detail::to_slice(row));
  return result;
}

optional<pool::verb> to_verb(const std::string& x) {
  if (x == "suspend")
    return pool::verb::suspend;
  if (x == "resume")
    return pool::verb::resume;
  if (x == "destroy")
    return pool::verb::destroy;
  return caf::none;
}

} // namespace

caf::expected<db::inserted_slices> insert_slices(detail::link& gateway,
                                                 const db::insert_slices& x) {
  if (x.count < 1 || x.count > max_insert)
    return make_error(ec::invalid_request,
                      "count must be between 1 and " + std::to_string(max_insert));
  if (x.port_base < 1 || x.port_base > 65535 || x.port_step < 1)
    return make_error(ec::invalid_request, "invalid slice port base or step");
  if (x.max_slices < 0)
    return make_error(ec::invalid_request, "max-slices must not be negative");
  if (x.data_root.empty())
    return make_error(ec::invalid_request, "no data root configured");
  if (x.idempotency_key && x.idempotency_key->empty())
    return make_error(ec::invalid_request, "an idempotency key must not be empty");
  return gateway.run([&x](pqxx::connection& c) -> caf::expected<db::inserted_slices> {
    pqxx::work tx{c};
    // Lock order: the key, then the ports. A repeat of a key waits for its first request
    // to commit or roll back, then finds its slices or makes them.
    if (x.idempotency_key)
      tx.exec_prepared("create_request_lock", *x.idempotency_key);
    tx.exec_prepared("slice_lock_ports");
    if (x.idempotency_key) {
      tx.exec_prepared("create_request_prune", static_cast<int32_t>(window_seconds));
      auto made = tx.exec_prepared("create_request_slices", *x.idempotency_key);
      if (!made.empty()) {
        tx.commit();
        return db::inserted_slices{to_slices(made), true};
      }
    }
    auto rows = tx.exec_prepared("slice_insert", x.count, x.port_base, x.port_step,
                                 x.max_slices, x.data_root);
    // Leaving without commit() rolls back: all or nothing, the key included.
    if (rows.empty() && x.max_slices > 0)
      return make_error(ec::conflict, "the pool would grow past max-slices ("
                                        + std::to_string(x.max_slices) + ")");
    if (rows.size() < static_cast<pqxx::result::size_type>(x.count))
      return make_error(ec::conflict, "only " + std::to_string(rows.size())
                                        + " free slice ports are left below 65536");
    auto slices = to_slices(rows);
    if (x.idempotency_key)
      tx.exec_prepared("create_request_insert", *x.idempotency_key, id_list(slices));
    tx.commit();
    return db::inserted_slices{std::move(slices), false};
  });
}

caf::expected<std::vector<slice_record>> list_slices(detail::link& gateway,
                                                     const db::list_slices& x) {
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::read_transaction tx{c};
    auto rows = tx.exec_prepared("slice_list", to_sql(x.status));
    tx.commit();
    return to_slices(rows);
  });
}

caf::expected<pool::slice_detail> get_slice_detail(detail::link& gateway,
                                                   const db::get_slice_detail& x) {
  return gateway.run([&x](pqxx::connection& c) -> caf::expected<pool::slice_detail> {
    pqxx::read_transaction tx{c};
    auto slice = tx.exec_prepared("slice_get", x.slice_id);
    if (slice.empty())
      return make_error(ec::not_found, "no " + slice_name(x.slice_id));
    auto latest = tx.exec_prepared("slice_latest_telemetry", x.slice_id);
    tx.commit();
    pool::slice_detail result;
    result.slice = detail::to_slice(slice[0]);
    if (!latest.empty())
      result.latest = detail::to_sample(latest[0]);
    return result;
  });
}

caf::expected<db::slice_transition> transition_slice(detail::link& gateway,
                                                     const db::transition_slice& x) {
  if (x.from.empty())
    return make_error(ec::invalid_request, "invalid slice transition");
  return gateway.run([&x](pqxx::connection& c) -> caf::expected<db::slice_transition> {
    pqxx::work tx{c};
    if (x.due) {
      tx.exec_prepared("due_lock", x.slice_id);
      auto& due = *x.due;
      auto verdict
        = tx.exec_prepared("pool_due_actions", to_sql(due.now), to_sql(due.past_due_before),
                           to_sql(due.ended_before), to_sql(optional<int32_t>{}), x.slice_id);
      if (verdict.empty() || to_verb(verdict[0]["action"].as<std::string>()) != due.action)
        return make_error(ec::conflict, slice_name(x.slice_id) + ": the billing policy no "
                                          "longer asks to "
                                          + pool::to_string(due.action) + " it");
    }
    auto rows = tx.exec_prepared("slice_transition", x.slice_id, status_list(x.from),
                                 to_sql(x.to), to_sql(x.reason));
    if (rows.empty())
      return make_error(ec::not_found, "no " + slice_name(x.slice_id));
    auto& row = rows[0];
    auto from = row["previous_status"].as<slice_status>();
    if (row["slice_id"].is_null())
      return make_error(ec::conflict, slice_name(x.slice_id) + " is " + to_string(from)
                                        + ", cannot become " + to_string(x.to));
    tx.commit();
    db::slice_transition result;
    result.slice = detail::to_slice(row, "slice_");
    result.from = from;
    result.previous_user_id = get_optional<int32_t>(row["previous_user_id"]);
    result.previous_reason = get_optional<std::string>(row["previous_reason"]);
    return result;
  });
}

caf::expected<std::vector<db::assignment>> assign_next(detail::link& gateway,
                                                       const db::assign_next& x) {
  if (x.limit < 1 || x.limit > max_assign_batch)
    return make_error(ec::invalid_request,
                      "limit must be between 1 and " + std::to_string(max_assign_batch));
  auto now = to_sql(x.now);
  return gateway.run([&](pqxx::connection& c) {
    pqxx::work tx{c};
    auto rows = tx.exec_prepared("pool_assign_next", x.limit, now);
    tx.commit();
    std::vector<db::assignment> result;
    result.reserve(rows.size());
    for (const auto& row : rows)
      result.push_back(
        db::assignment{row["user_id"].as<int32_t>(), detail::to_slice(row, "slice_")});
    return result;
  });
}

caf::expected<db::assignment> assign_user(detail::link& gateway, const db::assign_user& x) {
  return gateway.run([&x](pqxx::connection& c) -> caf::expected<db::assignment> {
    pqxx::work tx{c};
    // Lock both rows before changing either, so that the checks below still hold at commit.
    auto user = tx.exec_prepared("pool_lock_user", x.user_id);
    if (user.empty())
      return make_error(ec::not_found, "no user " + std::to_string(x.user_id));
    if (!user[0]["slice_id"].is_null())
      return make_error(ec::conflict, "user " + std::to_string(x.user_id) + " already has "
                                        + slice_name(user[0]["slice_id"].as<int32_t>()));
    int32_t slice_id = 0;
    if (x.slice_id) {
      auto slice = tx.exec_prepared("pool_lock_slice", *x.slice_id);
      if (slice.empty())
        return make_error(ec::not_found, "no " + slice_name(*x.slice_id));
      auto status = slice[0]["status"].as<slice_status>();
      if (status != slice_status::available || !slice[0]["user_id"].is_null())
        return make_error(ec::conflict, slice_name(*x.slice_id) + " is " + to_string(status));
      slice_id = *x.slice_id;
    } else {
      auto slice = tx.exec_prepared("pool_next_free_slice");
      if (slice.empty())
        return make_error(ec::conflict, "no slice is available");
      slice_id = slice[0]["id"].as<int32_t>();
    }
    auto row = tx.exec_prepared1("pool_bind", x.user_id, slice_id);
    tx.commit();
    return db::assignment{x.user_id, detail::to_slice(row)};
  });
}

caf::expected<pool::placement> get_placement(detail::link& gateway,
                                             const db::get_placement& x) {
  auto now = to_sql(x.now);
  return gateway.run([&](pqxx::connection& c) -> caf::expected<pool::placement> {
    pqxx::read_transaction tx{c};
    auto rows = tx.exec_prepared("pool_placement", x.user_id, now);
    tx.commit();
    if (rows.empty())
      return make_error(ec::not_found, "no user " + std::to_string(x.user_id));
    auto& row = rows[0];
    pool::placement result;
    if (!row["slice_id"].is_null())
      result.slice = detail::to_slice(row, "slice_");
    result.waiting_position = get_optional<int32_t>(row["waiting_position"]);
    return result;
  });
}

caf::expected<std::vector<pool::placement>> get_placements(detail::link& gateway,
                                                           const db::get_placements& x) {
  auto now = to_sql(x.now);
  using result_type = caf::expected<std::vector<pool::placement>>;
  return gateway.run([&](pqxx::connection& c) -> result_type {
    // The ids as one array parameter: `{1,2,3}`.
    std::string ids = "{";
    for (auto id : x.user_ids)
      ids += (ids.size() > 1 ? "," : "") + std::to_string(id);
    ids += "}";
    pqxx::read_transaction tx{c};
    auto rows = tx.exec_prepared("pool_placements", ids, now);
    tx.commit();
    std::map<int32_t, pool::placement> by_user;
    for (const auto& row : rows) {
      auto& p = by_user[row["user_id"].as<int32_t>()];
      if (!row["slice_id"].is_null())
        p.slice = detail::to_slice(row, "slice_");
      p.waiting_position = get_optional<int32_t>(row["waiting_position"]);
    }
    std::vector<pool::placement> result;
    result.reserve(x.user_ids.size());
    for (auto id : x.user_ids)
      result.push_back(by_user[id]);
    return result;
  });
}

caf::expected<std::vector<db::due_action>> due_actions(detail::link& gateway,
                                                       const db::due_actions& x) {
  auto now = to_sql(x.now);
  auto past_due_before = to_sql(x.past_due_before);
  auto ended_before = to_sql(x.ended_before);
  return gateway.run([&](pqxx::connection& c) -> caf::expected<std::vector<db::due_action>> {
    pqxx::read_transaction tx{c};
    auto rows = tx.exec_prepared("pool_due_actions", now, past_due_before, ended_before,
                                 to_sql(x.user_id), to_sql(optional<int32_t>{}));
    tx.commit();
    std::vector<db::due_action> result;
    result.reserve(rows.size());
    for (const auto& row : rows) {
      auto action = to_verb(row["action"].as<std::string>());
      if (!action)
        return make_error(ec::internal, "pool_due_actions names an unknown action");
      db::due_action item;
      item.slice_id = row["slice_id"].as<int32_t>();
      item.user_id = get_optional<int32_t>(row["user_id"]);
      item.status = row["status"].as<slice_status>();
      item.action = *action;
      item.reason = row["reason"].as<std::string>();
      result.push_back(std::move(item));
    }
    return result;
  });
}

caf::expected<db::pool_totals> count_pool(detail::link& gateway, const db::count_pool&) {
  return gateway.run([](pqxx::connection& c) {
    pqxx::read_transaction tx{c};
    auto row = tx.exec_prepared1("pool_counts");
    tx.commit();
    return db::pool_totals{row["total"].as<int32_t>(), row["ready"].as<int32_t>(),
                           row["destroying"].as<int32_t>()};
  });
}

} // namespace slicegate::pool_store
