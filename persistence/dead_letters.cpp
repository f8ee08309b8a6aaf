#include "persistence/dead_letters.hpp"

#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "messages/error.hpp"
#include "persistence/detail/rows.hpp"

namespace slicegate::dead_letter_store {

namespace {

/// Longest reason kept; a longer one is cut (the body is kept whole).
constexpr size_t max_reason = 2000;

admin::dead_letter to_dead_letter(const pqxx::row& row) {
  admin::dead_letter x;
  x.id = row["id"].as<int64_t>();
  x.subject = row["subject"].as<std::string>();
  if (!row["event_id"].is_null())
    x.event_id = row["event_id"].as<std::string>();
  pqxx::binarystring body{row["payload"]};
  x.payload.assign(body.data(), body.data() + body.size());
  x.reason = row["reason"].as<std::string>();
  if (!row["stream_sequence"].is_null())
    x.stream_sequence = row["stream_sequence"].as<int64_t>();
  x.deliveries = row["deliveries"].as<int64_t>();
  x.rejected_at = detail::from_micros(row["rejected_us"].as<int64_t>());
  if (!row["replayed_us"].is_null())
    x.replayed_at = detail::from_micros(row["replayed_us"].as<int64_t>());
  x.replays = row["replays"].as<int32_t>();
  return x;
}

std::optional<int64_t> to_sql(const optional<int64_t>& x) {
  if (!x)
    return std::nullopt;
  return *x;
}

caf::error unknown(int64_t id) {
  return make_error(ec::not_found, "no dead letter " + std::to_string(id));
}

} // namespace

caf::expected<int64_t> record(detail::link& gateway, const admin::record_dead_letter& x) {
  if (x.subject.empty())
    return make_error(ec::invalid_request, "a dead letter needs its subject");
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::work tx{c};
    pqxx::binarystring body{x.payload.data(), x.payload.size()};
    auto row = tx.exec_prepared1("dead_letter_insert", x.subject, detail::to_sql(x.event_id),
                                 body, x.reason.substr(0, max_reason),
                                 to_sql(x.stream_sequence), x.deliveries);
    tx.commit();
    return row[0].as<int64_t>();
  });
}

caf::expected<std::vector<admin::dead_letter>> list(detail::link& gateway,
                                                    const admin::list_dead_letters& x) {
  if (x.limit < 1 || x.limit > admin::max_dead_letter_page)
    return make_error(ec::invalid_request, "limit must be between 1 and "
                                             + std::to_string(admin::max_dead_letter_page));
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::read_transaction tx{c};
    std::vector<admin::dead_letter> result;
    for (const auto& row : tx.exec_prepared("dead_letter_list", x.after, x.include_replayed,
                                             x.limit))
      result.push_back(to_dead_letter(row));
    return result;
  });
}

caf::expected<admin::dead_letter> get(detail::link& gateway, const admin::get_dead_letter& x) {
  return gateway.run([&x](pqxx::connection& c) -> caf::expected<admin::dead_letter> {
    pqxx::read_transaction tx{c};
    auto rows = tx.exec_prepared("dead_letter_get", x.id);
    if (rows.empty())
      return unknown(x.id);
    return to_dead_letter(rows[0]);
  });
}

caf::expected<admin::dead_letter> mark_replayed(detail::link& gateway,
                                                const admin::mark_replayed& x) {
  return gateway.run([&x](pqxx::connection& c) -> caf::expected<admin::dead_letter> {
    pqxx::work tx{c};
    auto rows = tx.exec_prepared("dead_letter_mark_replayed", x.id);
    tx.commit();
    if (rows.empty())
      return unknown(x.id);
    return to_dead_letter(rows[0]);
  });
}

caf::expected<int64_t> prune(detail::link& gateway, const admin::prune_dead_letters& x) {
  if (x.batch <= 0)
    return make_error(ec::invalid_request, "batch must be positive");
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::work tx{c};
    auto rows = tx.exec_prepared("retention_prune_dead_letters", detail::to_sql(x.cutoff),
                                 x.batch);
    tx.commit();
    return static_cast<int64_t>(rows.affected_rows());
  });
}

} // namespace slicegate::dead_letter_store
