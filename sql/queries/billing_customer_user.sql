-- The user Stripe customer $1 is linked to (the first one, should two ever claim it).
SELECT id FROM gateway.users WHERE stripe_customer = $1 ORDER BY id LIMIT 1
