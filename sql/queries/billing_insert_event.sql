-- Stores a Stripe event unless its id was stored before; no row back means a duplicate.
-- $1 event id, $2 Stripe customer, $3 subscription id, $4 event type, $5 raw Stripe status,
-- $6 mapped status, $7 subscription end, $8 Stripe `created` (both RFC 3339), $9 the event as
-- JSON text, $10 and $11 the user id and e-mail a checkout names, $12 the subscription's own
-- `created` (subscription events only).
INSERT INTO gateway.billing_events (event_id, stripe_customer, subscription_id, type,
                                    stripe_status, mapped_status, subscription_ends_at,
                                    stripe_created, payload, client_reference_id,
                                    customer_email, subscription_created)
VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9::jsonb, $10, $11,
        $12::timestamptz)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
