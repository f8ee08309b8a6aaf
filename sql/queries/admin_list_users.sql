-- One page of users, newest first ($7 false) or oldest first ($7 true), filtered by
-- subscription status $1, waiting for a slice $2, admin $3 and e-mail prefix $4 (each NULL:
-- any), after the row ($5 created_at, $6 id) of the previous page (NULL: from the start), at
-- most $8 rows. "Waiting" is the queue of DESIGN.md section 3: no slice, and active or in a
-- trial that has not ended. The prefix is matched literally (LIKE's wildcards escaped by the
-- caller). Timestamps as microseconds since the epoch (*_us).
SELECT id, email, is_admin, subscription_status,
       (extract(epoch FROM subscription_ends_at) * 1000000)::bigint AS subscription_ends_at_us,
       slice_id, stripe_customer, subscription_id,
       (extract(epoch FROM created_at) * 1000000)::bigint AS created_at_us,
       (extract(epoch FROM last_login_at) * 1000000)::bigint AS last_login_at_us
FROM gateway.users
WHERE ($1::text IS NULL OR subscription_status = $1::text)
  AND ($2::boolean IS NULL
       OR $2::boolean = (slice_id IS NULL
                         AND (subscription_status = 'active'
                              OR (subscription_status = 'trial'
                                  AND (subscription_ends_at IS NULL
                                       OR subscription_ends_at > now())))))
  AND ($3::boolean IS NULL OR is_admin = $3::boolean)
  AND ($4::text IS NULL OR email LIKE $4::text || '%')
  AND ($5::timestamptz IS NULL
       OR (NOT $7::boolean AND (created_at, id) < ($5::timestamptz, $6::integer))
       OR ($7::boolean AND (created_at, id) > ($5::timestamptz, $6::integer)))
ORDER BY CASE WHEN $7::boolean THEN created_at END ASC,
         CASE WHEN $7::boolean THEN id END ASC,
         CASE WHEN NOT $7::boolean THEN created_at END DESC,
         CASE WHEN NOT $7::boolean THEN id END DESC
LIMIT $8
