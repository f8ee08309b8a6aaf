-- Applies stored billing event $2 to user $1, unless the user holds state from a newer event
-- (by Stripe `created`; an equal time applies, as Stripe stamps related events alike): no row
-- back means the event is stale. The subscription id and end change only when the event
-- carries them. past_due_since is when the user entered past_due: the event's time on entry,
-- kept while past_due, cleared on leaving it (the slice policy's grace period counts from it).
UPDATE gateway.users AS u
SET subscription_status = e.mapped_status,
    stripe_status = e.stripe_status,
    subscription_id = COALESCE(e.subscription_id, u.subscription_id),
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
  AND (u.billing_updated_at IS NULL OR u.billing_updated_at <= e.stripe_created)
RETURNING u.id
