-- What stored billing event $2 does to user $1, whose row stays locked for the rest of the
-- transaction: 'apply', 'stale', 'superseded' or 'ignored' (no row: no such user or event).
--
-- Billing is per subscription. The user's current subscription is users.subscription_id (set
-- by a checkout, see billing_link_customer.sql, or by the first event applied to a user who
-- has none). An event of another subscription applies only when it makes that subscription
-- current: a customer.subscription.created, updated or resumed whose subscription is active
-- or trialing and was created (its own `created`) after the current one. Every other event of
-- another subscription (a late deletion of a replaced one, its invoices) is 'superseded'.
-- Events of the current subscription are 'stale' when older (Stripe `created`) than the last
-- one applied (an equal time applies: Stripe stamps related events alike). An invoice never
-- moves a user out of cancelled (a final invoice paid at cancellation): 'superseded'.
SELECT CASE
           WHEN e.mapped_status IS NULL THEN 'ignored'
           WHEN e.subscription_id IS NOT NULL
                AND u.subscription_id IS NOT NULL
                AND e.subscription_id <> u.subscription_id
               THEN CASE
                        WHEN e.type IN ('customer.subscription.created',
                                        'customer.subscription.updated',
                                        'customer.subscription.resumed')
                             AND e.stripe_status IN ('active', 'trialing')
                             AND e.subscription_created IS NOT NULL
                             AND (u.subscription_created_at IS NULL
                                  OR e.subscription_created > u.subscription_created_at)
                            THEN 'apply'
                        ELSE 'superseded'
                    END
           WHEN u.billing_updated_at > e.stripe_created THEN 'stale'
           WHEN e.type IN ('invoice.paid', 'invoice.payment_failed')
                AND u.subscription_status = 'cancelled'
               THEN 'superseded'
           ELSE 'apply'
       END AS standing
FROM gateway.users AS u
JOIN gateway.billing_events AS e ON e.event_id = $2
WHERE u.id = $1
FOR UPDATE OF u
