-- Links Stripe customer $3, and subscription $4 when the checkout created one, to the user with
-- id $1 (a checkout's client_reference_id), else to the user with e-mail $2; $5 is the
-- checkout's Stripe `created`. Replies with that user's id and whether it was linked; no row
-- when neither names a user.
--
-- The checkout's subscription becomes the user's current one (billing_event_standing.sql),
-- unless the current one was created after this checkout completed (a late checkout of a
-- replaced subscription). The subscription was created before its checkout completed, so $5
-- stands in for its `created` until its own events say.
--
-- Who is named: the user with id $1 if there is one; otherwise the user whose e-mail equals
-- $2 trimmed of surrounding spaces and lowercased. Users' e-mails are stored lowercase (the
-- column's CHECK, and signup lowercases them the way lower() does), so this is the same
-- case-insensitive equality that keeps e-mails unique; nothing else is folded (no +tags,
-- dots or domain aliases), and $2 is never a pattern.
--
-- A link is never replaced: a user already linked to a different customer is named but not
-- linked (linked = false), and nothing of theirs changes. The check sits in the UPDATE's
-- WHERE, which PostgreSQL re-evaluates on the row's latest version, so a concurrent link
-- cannot slip between a check and the write.
WITH named AS (
    SELECT candidate.id
    FROM (SELECT id, 1 AS preference
          FROM gateway.users
          WHERE id = $1
          UNION ALL
          SELECT id, 2 AS preference
          FROM gateway.users
          WHERE email = lower(btrim($2))) AS candidate
    ORDER BY candidate.preference
    LIMIT 1
),
linked AS (
    UPDATE gateway.users AS u
    SET stripe_customer = $3,
        subscription_id = CASE
                              WHEN u.subscription_created_at IS NULL
                                   OR u.subscription_created_at <= $5::timestamptz
                                  THEN COALESCE($4, u.subscription_id)
                              ELSE u.subscription_id
                          END,
        subscription_created_at = CASE
                                      WHEN $4::text IS NULL
                                           OR u.subscription_created_at > $5::timestamptz
                                          THEN u.subscription_created_at
                                      WHEN u.subscription_id IS DISTINCT FROM $4::text
                                          THEN $5::timestamptz
                                      ELSE COALESCE(u.subscription_created_at, $5::timestamptz)
                                  END
    FROM named
    WHERE u.id = named.id
      AND (u.stripe_customer IS NULL OR u.stripe_customer = $3)
    RETURNING u.id
)
SELECT named.id, EXISTS (SELECT FROM linked) AS linked
FROM named
