-- Every slice, or those in status $1 (NULL: all), by id, each with its user's e-mail and its
-- newest telemetry sample (tel_* NULL when there is none; one idx_telemetry_slice_time probe
-- per slice). Timestamps as microseconds since the epoch (*_us).
SELECT s.id, s.port, s.status, s.user_id, s.wa_connected, s.wa_phone,
       (extract(epoch FROM s.last_health_at) * 1000000)::bigint AS last_health_at_us,
       (extract(epoch FROM s.created_at) * 1000000)::bigint AS created_at_us,
       s.storage_bytes, s.healthy,
       (extract(epoch FROM s.status_changed_at) * 1000000)::bigint AS status_changed_at_us,
       u.email AS user_email,
       t.slice_id, (extract(epoch FROM t."timestamp") * 1000000)::bigint AS at_us,
       t.rss_bytes, coalesce(t.wa_state, '') AS wa_state, t.cpu_percent::float8 AS cpu_percent,
       t.disk_bytes
FROM gateway.slices s
LEFT JOIN gateway.users u ON u.id = s.user_id
LEFT JOIN LATERAL (SELECT slice_id, "timestamp", rss_bytes, wa_state, cpu_percent, disk_bytes
                   FROM gateway.telemetry
                   WHERE slice_id = s.id
                   ORDER BY "timestamp" DESC
                   LIMIT 1) t ON true
WHERE $1::text IS NULL OR s.status = $1::text
ORDER BY s.id
