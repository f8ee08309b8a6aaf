-- Links Stripe customer $3, and subscription $4 when the checkout created one, to the user with
-- id $1 (a checkout's client_reference_id), else to the user with e-mail $2. Replies with that
-- user's id and whether it was linked; no row when neither names a user.
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
        subscription_id = COALESCE($4, u.subscription_id)
    FROM named
    WHERE u.id = named.id
      AND (u.stripe_customer IS NULL OR u.stripe_customer = $3)
    RETURNING u.id
)
SELECT named.id, EXISTS (SELECT FROM linked) AS linked
FROM named
