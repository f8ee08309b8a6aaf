-- Links Stripe customer $3, and subscription $4 when the checkout created one, to the user with
-- id $1 (a checkout's client_reference_id), else to the user with e-mail $2; replies with that
-- user's id, no row when neither names a user.
UPDATE gateway.users AS u
SET stripe_customer = $3,
    subscription_id = COALESCE($4, u.subscription_id)
WHERE u.id = (SELECT candidate.id
              FROM (SELECT id, 1 AS preference
                    FROM gateway.users
                    WHERE id = $1
                    UNION ALL
                    SELECT id, 2 AS preference
                    FROM gateway.users
                    WHERE email = lower(btrim($2))) AS candidate
              ORDER BY candidate.preference
              LIMIT 1)
RETURNING u.id
