-- Deletes at most $2 host samples taken before $1 (ISO 8601), one batch per call like
-- retention_prune_telemetry.
DELETE FROM gateway.server_telemetry
WHERE id IN (SELECT id
             FROM gateway.server_telemetry
             WHERE "timestamp" < $1::timestamptz
             ORDER BY "timestamp"
             LIMIT $2)
