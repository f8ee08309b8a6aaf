-- The stored events of Stripe customer $1 that wait for the customer to be linked to a user,
-- oldest Stripe `created` first (ties in the order they arrived). Locked, so that a concurrent
-- link cannot apply them twice.
SELECT event_id
FROM gateway.billing_events
WHERE stripe_customer = $1
  AND user_id IS NULL
  AND applied_at IS NULL
  AND mapped_status IS NOT NULL
ORDER BY stripe_created, received_at, event_id
FOR UPDATE
