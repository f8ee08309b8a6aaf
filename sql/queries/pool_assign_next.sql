-- Gives up to $1 waiting users a slice each, in one transaction: the oldest waiting users
-- (no slice; active, or trial that has not ended by $2) paired in queue order with the
-- available slices that are not known to be unhealthy, lowest id first. Rows another
-- transaction holds are skipped rather than waited for; the UNIQUE constraints on
-- users.slice_id and slices.user_id stop any pairing that would still collide. One row per
-- pairing, in queue order. Timestamps as microseconds since the epoch (*_us).
WITH waiting AS (
    SELECT id, created_at
    FROM gateway.users
    WHERE slice_id IS NULL
      AND (subscription_status = 'active'
           OR (subscription_status = 'trial'
               AND (subscription_ends_at IS NULL OR subscription_ends_at > $2::timestamptz)))
    ORDER BY created_at, id
    LIMIT $1::integer
    FOR UPDATE SKIP LOCKED
),
free AS (
    SELECT id
    FROM gateway.slices
    WHERE status = 'available'
      AND user_id IS NULL
      AND healthy IS NOT FALSE
    ORDER BY id
    LIMIT $1::integer
    FOR UPDATE SKIP LOCKED
),
pairs AS (
    SELECT w.id AS user_id, f.id AS slice_id
    FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM waiting) w
    JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM free) f ON f.n = w.n
),
taken AS (
    UPDATE gateway.slices s
    SET status = 'assigned',
        user_id = p.user_id,
        status_reason = NULL,
        status_changed_at = now()
    FROM pairs p
    WHERE s.id = p.slice_id
    RETURNING s.*
),
given AS (
    UPDATE gateway.users u
    SET slice_id = p.slice_id
    FROM pairs p
    WHERE u.id = p.user_id
    RETURNING u.id
)
SELECT t.user_id,
       t.id AS slice_id,
       t.port AS slice_port,
       t.status AS slice_status,
       t.user_id AS slice_user_id,
       t.wa_connected AS slice_wa_connected,
       t.wa_phone AS slice_wa_phone,
       (extract(epoch FROM t.last_health_at) * 1000000)::bigint AS slice_last_health_at_us,
       (extract(epoch FROM t.created_at) * 1000000)::bigint AS slice_created_at_us,
       t.storage_bytes AS slice_storage_bytes,
       t.healthy AS slice_healthy,
       (extract(epoch FROM t.status_changed_at) * 1000000)::bigint AS slice_status_changed_at_us
FROM taken t
ORDER BY t.id
