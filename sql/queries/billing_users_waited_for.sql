-- Of the users $1 (an array of ids), those that billing state waits for: a checkout that
-- named the user before the user existed (as billing_link_waiting_checkout.sql finds it), or
-- stored events of the user's Stripe customer that wait for a linked user (as
-- billing_waiting_events.sql finds them). The other users of a batch of new accounts need
-- no billing step at all.
SELECT u.id
FROM gateway.users AS u
WHERE u.id = ANY($1::integer[])
  AND (EXISTS (SELECT
               FROM gateway.billing_events AS e
               WHERE e.type = 'checkout.session.completed'
                 AND e.user_id IS NULL
                 AND e.applied_at IS NULL
                 AND e.stripe_customer IS NOT NULL
                 AND (e.client_reference_id = u.id OR lower(btrim(e.customer_email)) = u.email))
       OR (u.stripe_customer IS NOT NULL
           AND EXISTS (SELECT
                       FROM gateway.billing_events AS e
                       WHERE e.stripe_customer = u.stripe_customer
                         AND e.user_id IS NULL
                         AND e.applied_at IS NULL
                         AND e.mapped_status IS NOT NULL)))
