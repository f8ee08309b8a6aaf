-- Claims signup event $1 for this transaction. No row back: the event was processed before
-- (or another transaction processing it has just committed).
INSERT INTO gateway.signup_events (event_id)
VALUES ($1)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
