-- Sets is_admin of user $1 to $2 and replies with the updated row, timestamps as
-- microseconds since the epoch (*_us).
UPDATE gateway.users
SET is_admin = $2
WHERE id = $1
RETURNING id, email, is_admin, subscription_status,
          (extract(epoch FROM subscription_ends_at) * 1000000)::bigint AS subscription_ends_at_us,
          slice_id, stripe_customer, subscription_id,
          (extract(epoch FROM created_at) * 1000000)::bigint AS created_at_us,
          (extract(epoch FROM last_login_at) * 1000000)::bigint AS last_login_at_us
