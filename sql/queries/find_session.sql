-- Session $1 with its user and that user's slice (slice_* all NULL when the user has none).
-- Columns are prefixed by the record they fill; timestamps as microseconds since the epoch
-- (*_us).
SELECT s.id AS session_id,
       s.user_id AS session_user_id,
       (extract(epoch FROM s.expires_at) * 1000000)::bigint AS session_expires_at_us,
       (extract(epoch FROM s.created_at) * 1000000)::bigint AS session_created_at_us,
       u.id AS user_id,
       u.email AS user_email,
       u.is_admin AS user_is_admin,
       u.subscription_status AS user_subscription_status,
       (extract(epoch FROM u.subscription_ends_at) * 1000000)::bigint
           AS user_subscription_ends_at_us,
       u.slice_id AS user_slice_id,
       u.stripe_customer AS user_stripe_customer,
       u.subscription_id AS user_subscription_id,
       (extract(epoch FROM u.created_at) * 1000000)::bigint AS user_created_at_us,
       (extract(epoch FROM u.last_login_at) * 1000000)::bigint AS user_last_login_at_us,
       sl.id AS slice_id,
       sl.port AS slice_port,
       sl.status AS slice_status,
       sl.user_id AS slice_user_id,
       sl.wa_connected AS slice_wa_connected,
       sl.wa_phone AS slice_wa_phone,
       (extract(epoch FROM sl.last_health_at) * 1000000)::bigint AS slice_last_health_at_us,
       (extract(epoch FROM sl.created_at) * 1000000)::bigint AS slice_created_at_us,
       sl.storage_bytes AS slice_storage_bytes,
       sl.healthy AS slice_healthy,
       (extract(epoch FROM sl.status_changed_at) * 1000000)::bigint AS slice_status_changed_at_us
FROM gateway.sessions s
JOIN gateway.users u ON u.id = s.user_id
LEFT JOIN gateway.slices sl ON sl.id = u.slice_id
WHERE s.id = $1
