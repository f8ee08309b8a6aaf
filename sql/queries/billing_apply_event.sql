-- Applies stored billing event $2 to user $1; billing_event_standing.sql decided, in the same
-- transaction, that it applies. No row back when the event sets no status. The subscription
-- id and end change only when the event carries them; an event of another subscription makes
-- that one current, created when its object says, else at the event's time.
-- past_due_since is when the user entered past_due: the event's time on entry, kept while
-- past_due, cleared on leaving it (the slice policy's grace period counts from it).
UPDATE gateway.users AS u
SET subscription_status = e.mapped_status,
    stripe_status = e.stripe_status,
    subscription_id = COALESCE(e.subscription_id, u.subscription_id),
    subscription_created_at = CASE
                                  WHEN e.subscription_id IS NULL
                                      THEN u.subscription_created_at
                                  WHEN e.subscription_id IS DISTINCT FROM u.subscription_id
                                      THEN COALESCE(e.subscription_created, e.stripe_created)
                                  ELSE COALESCE(e.subscription_created,
                                                u.subscription_created_at, e.stripe_created)
                              END,
    subscription_ends_at = COALESCE(e.subscription_ends_at, u.subscription_ends_at),
    past_due_since = CASE
                         WHEN e.mapped_status <> 'past_due' THEN NULL
                         WHEN u.subscription_status = 'past_due'
                             THEN COALESCE(u.past_due_since, e.stripe_created)
                         ELSE e.stripe_created
                     END,
    billing_updated_at = e.stripe_created
FROM gateway.billing_events AS e
WHERE u.id = $1
  AND e.event_id = $2
  AND e.mapped_status IS NOT NULL
RETURNING u.id
