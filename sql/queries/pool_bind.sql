-- Gives user $1 slice $2: both sides of the link change in this one statement, and the slice
-- becomes assigned. Callers lock both rows first (pool_lock_user, pool_lock_slice or
-- pool_next_free_slice). Replies with the slice; timestamps as microseconds since the epoch
-- (*_us).
WITH given AS (
    UPDATE gateway.users SET slice_id = $2 WHERE id = $1 RETURNING id
)
UPDATE gateway.slices s
SET status = 'assigned',
    user_id = $1,
    status_reason = NULL,
    status_changed_at = now()
FROM given
WHERE s.id = $2
RETURNING s.id, s.port, s.status, s.user_id, s.wa_connected, s.wa_phone,
          (extract(epoch FROM s.last_health_at) * 1000000)::bigint AS last_health_at_us,
          (extract(epoch FROM s.created_at) * 1000000)::bigint AS created_at_us,
          s.storage_bytes, s.healthy,
          (extract(epoch FROM s.status_changed_at) * 1000000)::bigint AS status_changed_at_us
