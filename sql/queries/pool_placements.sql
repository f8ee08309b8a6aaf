-- Where each of the users $1 (an array of ids) stands at $2, as pool_placement.sql says for
-- one user: one row per user that exists, named by user_id.
-- Timestamps as microseconds since the epoch (*_us).
WITH me AS (
    SELECT id, created_at, slice_id,
           slice_id IS NULL
           AND (subscription_status = 'active'
                OR (subscription_status = 'trial'
                    AND (subscription_ends_at IS NULL OR subscription_ends_at > $2::timestamptz)))
               AS waiting
    FROM gateway.users
    WHERE id = ANY($1::integer[])
)
SELECT me.id AS user_id,
       CASE WHEN me.waiting THEN (
           SELECT count(*)::integer
           FROM gateway.users w
           WHERE w.slice_id IS NULL
             AND (w.subscription_status = 'active'
                  OR (w.subscription_status = 'trial'
                      AND (w.subscription_ends_at IS NULL
                           OR w.subscription_ends_at > $2::timestamptz)))
             AND (w.created_at, w.id) <= (me.created_at, me.id))
       END AS waiting_position,
       s.id AS slice_id,
       s.port AS slice_port,
       s.status AS slice_status,
       s.user_id AS slice_user_id,
       s.wa_connected AS slice_wa_connected,
       s.wa_phone AS slice_wa_phone,
       (extract(epoch FROM s.last_health_at) * 1000000)::bigint AS slice_last_health_at_us,
       (extract(epoch FROM s.created_at) * 1000000)::bigint AS slice_created_at_us,
       s.storage_bytes AS slice_storage_bytes,
       s.healthy AS slice_healthy,
       (extract(epoch FROM s.status_changed_at) * 1000000)::bigint AS slice_status_changed_at_us
FROM me
LEFT JOIN gateway.slices s ON s.id = me.slice_id
