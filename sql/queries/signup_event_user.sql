-- The user that signup event $1 created; no row if that user has been deleted since.
-- Timestamps as microseconds since the epoch (*_us).
SELECT u.id, u.email, u.is_admin, u.subscription_status,
       (extract(epoch FROM u.subscription_ends_at) * 1000000)::bigint AS subscription_ends_at_us,
       u.slice_id, u.stripe_customer, u.subscription_id,
       (extract(epoch FROM u.created_at) * 1000000)::bigint AS created_at_us,
       (extract(epoch FROM u.last_login_at) * 1000000)::bigint AS last_login_at_us
FROM gateway.signup_events e
JOIN gateway.users u ON u.id = e.user_id
WHERE e.event_id = $1
