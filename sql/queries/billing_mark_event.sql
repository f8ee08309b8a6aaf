-- Records that stored billing event $1 concerned user $2, and whether it was applied ($3) or
-- not: found stale, or a checkout refused because the user is linked to another customer
-- (the only way a checkout row gets a user without applied_at). Only events with no user stay
-- waiting for a customer link.
UPDATE gateway.billing_events
SET user_id = $2,
    applied_at = CASE WHEN $3::boolean THEN now() END
WHERE event_id = $1
