-- Deletes at most $2 per-slice samples taken before $1 (ISO 8601) on the same UTC day as $1:
-- one batch, so that a large backlog never holds locks or a transaction open for long. Whole
-- days before it go as partitions (telemetry_drop_partitions), so only the boundary day's
-- partition is read; idx_telemetry_time serves both the range and the order.
DELETE FROM gateway.telemetry
WHERE "timestamp" >= date_trunc('day', $1::timestamptz, 'UTC')
  AND "timestamp" < $1::timestamptz
  AND (id, "timestamp") IN (SELECT id, "timestamp"
                            FROM gateway.telemetry
                            WHERE "timestamp" >= date_trunc('day', $1::timestamptz, 'UTC')
                              AND "timestamp" < $1::timestamptz
                            ORDER BY "timestamp"
                            LIMIT $2)
