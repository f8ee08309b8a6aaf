-- Slice $1. Timestamps as microseconds since the epoch (*_us).
SELECT id, port, status, user_id, wa_connected, wa_phone,
       (extract(epoch FROM last_health_at) * 1000000)::bigint AS last_health_at_us,
       (extract(epoch FROM created_at) * 1000000)::bigint AS created_at_us,
       storage_bytes, healthy,
       (extract(epoch FROM status_changed_at) * 1000000)::bigint AS status_changed_at_us
FROM gateway.slices
WHERE id = $1
