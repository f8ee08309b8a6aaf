-- Links user $1 to the Stripe customer (and subscription) of the latest checkout that named the
-- user, by id or by e-mail, before the user existed; replies with that checkout's event id and
-- the customer, no row when no checkout waits for the user.
WITH checkout AS (
    SELECT e.event_id, e.stripe_customer, e.subscription_id
    FROM gateway.billing_events AS e
    JOIN gateway.users AS u ON u.id = $1
    WHERE e.type = 'checkout.session.completed'
      AND e.user_id IS NULL
      AND e.applied_at IS NULL
      AND e.stripe_customer IS NOT NULL
      AND (e.client_reference_id = u.id OR lower(btrim(e.customer_email)) = u.email)
    ORDER BY e.stripe_created DESC, e.received_at DESC
    LIMIT 1
)
UPDATE gateway.users AS u
SET stripe_customer = c.stripe_customer,
    subscription_id = COALESCE(c.subscription_id, u.subscription_id)
FROM checkout AS c
WHERE u.id = $1
RETURNING c.event_id, c.stripe_customer
