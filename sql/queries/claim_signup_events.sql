-- Claims the signup events $1 (an array of ids) for this transaction, as claim_signup_event.sql
-- does one. Replies with the ids claimed; an id missing from the reply was processed before
-- (or appears twice in $1: only its first claim counts).
INSERT INTO gateway.signup_events (event_id)
SELECT unnest($1::text[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
