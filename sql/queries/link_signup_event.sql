-- Remembers that signup event $1 created user $2.
UPDATE gateway.signup_events SET user_id = $2 WHERE event_id = $1
