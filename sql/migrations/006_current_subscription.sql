-- 006: billing per subscription. A Stripe customer may hold several subscriptions over time
-- (a replaced plan, a new checkout after a cancellation); only the user's current one
-- (users.subscription_id) changes the user's billing state. Idempotent; one transaction.

-- Quiet the "already exists, skipping" notices of a re-run.
SET LOCAL client_min_messages = warning;

-- The subscription object's own `created`, as subscription events carry it: of two
-- subscriptions, the one created later is the newer.
ALTER TABLE gateway.billing_events ADD COLUMN IF NOT EXISTS subscription_created TIMESTAMPTZ;

COMMENT ON COLUMN gateway.billing_events.subscription_created IS
    'A subscription event''s subscription `created`; NULL for checkouts and invoices';

-- When the user's current subscription was created (its `created`, else the Stripe time of
-- the event that made it current): a subscription created later may replace it.
ALTER TABLE gateway.users ADD COLUMN IF NOT EXISTS subscription_created_at TIMESTAMPTZ;

COMMENT ON COLUMN gateway.users.subscription_created_at IS
    'Stripe `created` of the current subscription (users.subscription_id), or the time of the event that made it current';

-- Users linked before this migration: the first event seen of their current subscription
-- stands in for its creation.
UPDATE gateway.users AS u
SET subscription_created_at = first_seen.at
FROM (SELECT subscription_id, min(stripe_created) AS at
      FROM gateway.billing_events
      WHERE subscription_id IS NOT NULL
      GROUP BY subscription_id) AS first_seen
WHERE u.subscription_created_at IS NULL
  AND u.subscription_id = first_seen.subscription_id;
