#include "persistence/telemetry.hpp"

#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <tuple>

#include <pqxx/pqxx>

#include "messages/error.hpp"
#include "persistence/detail/rows.hpp"

namespace slicegate::telemetry_store {

using detail::to_sql;

namespace {

/// COPY names its target instead of taking a statement, so the table and its columns are
/// identifiers here rather than a file in sql/queries/. libpqxx 6 pastes them into
/// `COPY <table>(<columns>) FROM STDIN` unquoted, hence the quotes around the keyword.
constexpr const char* telemetry_table = "gateway.telemetry";
constexpr std::array<const char*, 6> telemetry_columns{
  "slice_id", "\"timestamp\"", "rss_bytes", "wa_state", "cpu_percent", "disk_bytes"};

template <class T>
std::optional<T> to_sql(const optional<T>& x) {
  if (!x)
    return std::nullopt;
  return *x;
}

/// NUMERIC takes NaN but no infinity before PostgreSQL 14; neither is a CPU reading.
std::optional<double> to_sql_percent(const optional<double>& x) {
  if (!x || !std::isfinite(*x))
    return std::nullopt;
  return *x;
}

caf::error check_batch(int32_t batch) {
  if (batch <= 0)
    return make_error(ec::invalid_request, "batch must be positive");
  return {};
}

} // namespace

caf::expected<int64_t> insert(detail::link& gateway, const db::insert_telemetry& x) {
  if (x.samples.empty())
    return int64_t{0};
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::work tx{c};
    pqxx::stream_to copy{tx, telemetry_table, telemetry_columns};
    for (auto& s : x.samples)
      copy << std::make_tuple(s.slice_id, to_sql(s.at), to_sql(s.rss_bytes), s.wa_state,
                              to_sql_percent(s.cpu_percent), to_sql(s.disk_bytes));
    copy.complete();
    tx.commit();
    return static_cast<int64_t>(x.samples.size());
  });
}

caf::expected<int64_t> update_slice_health(detail::link& gateway,
                                           const db::update_slice_health& x) {
  if (x.rows.empty())
    return int64_t{0};
  // One statement for the whole batch, its columns as arrays: at 10,000 slices a statement
  // per row cost the daemon and PostgreSQL a round trip per probe (bench/README.md,
  // watch_10k).
  detail::array_literal ids, ats, healthy, connected, answered, phones, storage;
  for (auto& r : x.rows) {
    ids.add(r.slice_id);
    ats.add(to_sql(r.at));
    healthy.add(r.healthy);
    connected.add(r.wa_connected);
    answered.add(r.answered);
    phones.add(to_sql(r.wa_phone));
    storage.add(to_sql(r.storage_bytes));
  }
  return gateway.run([&](pqxx::connection& c) {
    pqxx::work tx{c};
    auto result = tx.exec_prepared("telemetry_update_slice_health", ids.str(), ats.str(),
                                   healthy.str(), connected.str(), answered.str(),
                                   phones.str(), storage.str());
    tx.commit();
    return static_cast<int64_t>(result.affected_rows());
  });
}

caf::expected<int64_t> insert_server_samples(detail::link& gateway,
                                             const db::insert_server_samples& x) {
  if (x.samples.empty())
    return int64_t{0};
  // One row a minute, a few more after an outage: not worth a COPY.
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::work tx{c};
    for (auto& s : x.samples)
      tx.exec_prepared("server_insert_sample", to_sql(s.at), s.ram_used_bytes,
                       s.ram_total_bytes, s.swap_used_bytes, s.swap_total_bytes, s.cpu_percent,
                       s.disk_used_bytes, s.disk_total_bytes, s.active_slices, s.total_slices);
    tx.commit();
    return static_cast<int64_t>(x.samples.size());
  });
}

caf::expected<db::slice_totals> slice_counts(detail::link& gateway, const db::slice_counts&) {
  return gateway.run([](pqxx::connection& c) {
    pqxx::read_transaction tx{c};
    auto row = tx.exec_prepared1("server_slice_counts");
    tx.commit();
    return db::slice_totals{row["active"].as<int32_t>(), row["total"].as<int32_t>()};
  });
}

caf::expected<int64_t> prune(detail::link& gateway, const db::prune_telemetry& x) {
  if (auto err = check_batch(x.batch))
    return err;
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::work tx{c};
    auto rows = tx.exec_prepared("retention_prune_telemetry", to_sql(x.cutoff), x.batch);
    tx.commit();
    return static_cast<int64_t>(rows.affected_rows());
  });
}

caf::expected<db::partition_report> maintain_partitions(detail::link& gateway,
                                                        const db::maintain_partitions& x) {
  // A month ahead is already more partitions than anyone reads; more is a mistake.
  if (x.days_ahead < 0 || x.days_ahead > 31)
    return make_error(ec::invalid_request, "days_ahead must be within 0 and 31");
  if (x.cutoff > x.now)
    return make_error(ec::invalid_request, "the cutoff lies after now");
  return gateway.run([&x](pqxx::connection& c) {
    db::partition_report report;
    // Creating and dropping commit apart: a drop that waits for a reader must not hold back
    // the partitions that inserts need.
    {
      pqxx::work tx{c};
      auto row = tx.exec_prepared1("telemetry_ensure_partitions", to_sql(x.cutoff),
                                   to_sql(x.now), x.days_ahead);
      tx.commit();
      report.created = row["created"].as<int32_t>();
    }
    {
      pqxx::work tx{c};
      auto row = tx.exec_prepared1("telemetry_drop_partitions", to_sql(x.cutoff));
      tx.commit();
      report.dropped = row["dropped"].as<int32_t>();
      report.busy = row["busy"].as<int32_t>();
    }
    return report;
  });
}

caf::expected<int64_t> prune_server(detail::link& gateway,
                                    const db::prune_server_telemetry& x) {
  if (auto err = check_batch(x.batch))
    return err;
  return gateway.run([&x](pqxx::connection& c) {
    pqxx::work tx{c};
    auto rows = tx.exec_prepared("retention_prune_server_telemetry", to_sql(x.cutoff), x.batch);
    tx.commit();
    return static_cast<int64_t>(rows.affected_rows());
  });
}

} // namespace slicegate::telemetry_store
