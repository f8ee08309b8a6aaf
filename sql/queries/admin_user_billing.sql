-- The last $2 billing events applied to, or waiting for, user $1, newest first. Timestamps as
-- microseconds since the epoch (*_us).
SELECT event_id, type, stripe_status, mapped_status,
       (extract(epoch FROM stripe_created) * 1000000)::bigint AS stripe_created_us,
       (extract(epoch FROM received_at) * 1000000)::bigint AS received_at_us,
       (extract(epoch FROM applied_at) * 1000000)::bigint AS applied_at_us
FROM gateway.billing_events
WHERE user_id = $1
ORDER BY stripe_created DESC, received_at DESC
LIMIT $2
