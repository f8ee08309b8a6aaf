-- Deletes at most $2 per-slice samples taken before $1 (ISO 8601): one batch, so that a large
-- backlog never holds locks or a transaction open for long. idx_telemetry_time serves both
-- the range and the order.
DELETE FROM gateway.telemetry
WHERE id IN (SELECT id
             FROM gateway.telemetry
             WHERE "timestamp" < $1::timestamptz
             ORDER BY "timestamp"
             LIMIT $2)
