-- Moves slice $1 from one of the statuses $2 (comma-separated) to status $3 with reason $4
-- (NULL clears it). Moving to destroying or available also releases the slice's user on both
-- sides, in this one statement; moving to available forgets the health of what was wiped.
-- One row: the status, user and reason before, and the slice after (all slice_* NULL when the
-- status was not one of $2, so nothing moved); no row when there is no slice $1.
-- Timestamps as microseconds since the epoch (*_us).
WITH old AS (
    SELECT id, status, user_id, status_reason
    FROM gateway.slices
    WHERE id = $1
    FOR UPDATE
),
moved AS (
    UPDATE gateway.slices s
    SET status = $3::text,
        status_reason = $4::text,
        status_changed_at = now(),
        user_id = CASE WHEN $3::text IN ('destroying', 'available') THEN NULL ELSE s.user_id END,
        healthy = CASE WHEN $3::text = 'available' THEN NULL ELSE s.healthy END,
        wa_connected = CASE WHEN $3::text = 'available' THEN false ELSE s.wa_connected END,
        wa_phone = CASE WHEN $3::text = 'available' THEN NULL ELSE s.wa_phone END,
        last_health_at = CASE WHEN $3::text = 'available' THEN NULL ELSE s.last_health_at END,
        storage_bytes = CASE WHEN $3::text = 'available' THEN 0 ELSE s.storage_bytes END
    FROM old
    WHERE s.id = old.id
      AND old.status = ANY (string_to_array($2::text, ','))
    RETURNING s.*
),
released AS (
    UPDATE gateway.users u
    SET slice_id = NULL
    FROM old, moved
    WHERE u.id = old.user_id
      AND u.slice_id = old.id
      AND moved.user_id IS NULL
    RETURNING u.id
)
SELECT old.status AS previous_status,
       old.user_id AS previous_user_id,
       old.status_reason AS previous_reason,
       moved.id AS slice_id,
       moved.port AS slice_port,
       moved.status AS slice_status,
       moved.user_id AS slice_user_id,
       moved.wa_connected AS slice_wa_connected,
       moved.wa_phone AS slice_wa_phone,
       (extract(epoch FROM moved.last_health_at) * 1000000)::bigint AS slice_last_health_at_us,
       (extract(epoch FROM moved.created_at) * 1000000)::bigint AS slice_created_at_us,
       moved.storage_bytes AS slice_storage_bytes,
       moved.healthy AS slice_healthy,
       (extract(epoch FROM moved.status_changed_at) * 1000000)::bigint
           AS slice_status_changed_at_us
FROM old
LEFT JOIN moved ON true
