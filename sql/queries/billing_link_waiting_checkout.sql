-- Links user $1, in the transaction that creates the user, to the Stripe customer (and
-- subscription) of the latest checkout that named the user before the user existed. Replies
-- with that checkout's event id, its customer and whether it was linked; no row when no
-- checkout waits for the user.
--
-- A checkout names the user by id (its client_reference_id), or by e-mail: the checkout's
-- e-mail trimmed of surrounding spaces and lowercased equals the user's. E-mails are stored
-- lowercase, so this is the case-insensitive equality that keeps them unique, and nothing
-- else (no +tags, dots, domain aliases, patterns).
--
-- The account must not already be linked to another customer: one created with a customer
-- of its own (a signup event naming it) is never linked to a different one (linked = false,
-- and the account is left as created). That is the whole rule; it compares no times. This
-- runs only in the transaction that creates the account, so an account that existed before
-- the checkout was made, with a customer or without, is never reached here (a checkout
-- naming one found it on arrival and was linked or refused then, see
-- billing_link_customer.sql); and Stripe's `created` and our `created_at` come from
-- different clocks.
WITH checkout AS (
    SELECT e.event_id, e.stripe_customer, e.subscription_id, e.stripe_created
    FROM gateway.billing_events AS e
    JOIN gateway.users AS u ON u.id = $1
    WHERE e.type = 'checkout.session.completed'
      AND e.user_id IS NULL
      AND e.applied_at IS NULL
      AND e.stripe_customer IS NOT NULL
      AND (e.client_reference_id = u.id OR lower(btrim(e.customer_email)) = u.email)
    ORDER BY e.stripe_created DESC, e.received_at DESC
    LIMIT 1
),
linked AS (
    UPDATE gateway.users AS u
    SET stripe_customer = c.stripe_customer,
        subscription_id = COALESCE(c.subscription_id, u.subscription_id),
        -- The account is new: the checkout's subscription becomes its current one, created
        -- (as far as we know yet) when the checkout completed.
        subscription_created_at = CASE WHEN c.subscription_id IS NULL
                                           THEN u.subscription_created_at
                                       ELSE c.stripe_created END
    FROM checkout AS c
    WHERE u.id = $1
      AND (u.stripe_customer IS NULL OR u.stripe_customer = c.stripe_customer)
    RETURNING u.id
)
SELECT c.event_id, c.stripe_customer, EXISTS (SELECT FROM linked) AS linked
FROM checkout AS c
