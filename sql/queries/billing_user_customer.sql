-- The Stripe customer linked to user $1; no row if the user does not exist.
SELECT stripe_customer FROM gateway.users WHERE id = $1
