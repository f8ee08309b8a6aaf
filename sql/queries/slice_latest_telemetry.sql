-- The newest telemetry sample of slice $1 (idx_telemetry_slice_time serves it), if any.
-- Timestamps as microseconds since the epoch (*_us).
SELECT slice_id,
       (extract(epoch FROM "timestamp") * 1000000)::bigint AS at_us,
       rss_bytes,
       coalesce(wa_state, '') AS wa_state,
       cpu_percent::double precision AS cpu_percent,
       disk_bytes
FROM gateway.telemetry
WHERE slice_id = $1
ORDER BY "timestamp" DESC
LIMIT 1
