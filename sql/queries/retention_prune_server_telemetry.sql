-- Deletes at most $2 host samples taken before $1 (ISO 8601) on the same UTC day as $1, one
-- batch per call like retention_prune_telemetry.
DELETE FROM gateway.server_telemetry
WHERE "timestamp" >= date_trunc('day', $1::timestamptz, 'UTC')
  AND "timestamp" < $1::timestamptz
  AND (id, "timestamp") IN (SELECT id, "timestamp"
                            FROM gateway.server_telemetry
                            WHERE "timestamp" >= date_trunc('day', $1::timestamptz, 'UTC')
                              AND "timestamp" < $1::timestamptz
                            ORDER BY "timestamp"
                            LIMIT $2)
