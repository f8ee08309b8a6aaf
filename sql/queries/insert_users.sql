-- Inserts users as insert_user.sql does one, from arrays of one element per user: e-mail $1
-- (stored lowercase), password hash $2, subscription status $3, its end $4 (ISO 8601 or
-- NULL), Stripe customer $5 (or NULL), admin $6. Any row that fails (a taken e-mail) fails
-- them all. Replies with the new rows and each one's place in the arrays (n, from 1),
-- timestamps as microseconds since the epoch (*_us).
WITH input AS (
    SELECT *
    FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],
                $6::boolean[])
         WITH ORDINALITY
         AS u (email, password_hash, subscription_status, subscription_ends_at,
               stripe_customer, is_admin, n)
),
inserted AS (
    INSERT INTO gateway.users
        (email, password_hash, subscription_status, subscription_ends_at, stripe_customer,
         is_admin)
    SELECT lower(email), password_hash, subscription_status, subscription_ends_at,
           stripe_customer, is_admin
    FROM input
    ORDER BY n
    RETURNING *
)
SELECT input.n,
       i.id, i.email, i.is_admin, i.subscription_status,
       (extract(epoch FROM i.subscription_ends_at) * 1000000)::bigint AS subscription_ends_at_us,
       i.slice_id, i.stripe_customer, i.subscription_id,
       (extract(epoch FROM i.created_at) * 1000000)::bigint AS created_at_us,
       (extract(epoch FROM i.last_login_at) * 1000000)::bigint AS last_login_at_us
FROM inserted AS i
JOIN input ON lower(input.email) = i.email
