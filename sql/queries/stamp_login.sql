-- Sets user $1's last_login_at to $2 (ISO 8601) and replies with the updated row, timestamps
-- as microseconds since the epoch (*_us).
UPDATE gateway.users
SET last_login_at = $2::timestamptz
WHERE id = $1
RETURNING id, email, is_admin, subscription_status,
          (extract(epoch FROM subscription_ends_at) * 1000000)::bigint AS subscription_ends_at_us,
          slice_id, stripe_customer, subscription_id,
          (extract(epoch FROM created_at) * 1000000)::bigint AS created_at_us,
          (extract(epoch FROM last_login_at) * 1000000)::bigint AS last_login_at_us
