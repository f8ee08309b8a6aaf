-- Inserts a user; the e-mail is stored lowercase (the column's CHECK uses the same lower()).
-- $4 is an ISO 8601 timestamp or NULL. Replies with the new row, timestamps as microseconds
-- since the epoch (*_us).
INSERT INTO gateway.users
    (email, password_hash, subscription_status, subscription_ends_at, stripe_customer, is_admin)
VALUES (lower($1), $2, $3, $4::timestamptz, $5, $6)
RETURNING id, email, is_admin, subscription_status,
          (extract(epoch FROM subscription_ends_at) * 1000000)::bigint AS subscription_ends_at_us,
          slice_id, stripe_customer, subscription_id,
          (extract(epoch FROM created_at) * 1000000)::bigint AS created_at_us,
          (extract(epoch FROM last_login_at) * 1000000)::bigint AS last_login_at_us
