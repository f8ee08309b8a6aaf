-- Deletes at most $2 alerts raised before $1 (ISO 8601): one batch, like the telemetry tables.
DELETE FROM gateway.slice_alerts
WHERE id IN (SELECT id
             FROM gateway.slice_alerts
             WHERE "timestamp" < $1::timestamptz
             ORDER BY "timestamp"
             LIMIT $2)
