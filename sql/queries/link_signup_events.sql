-- Remembers which user each signup event created: event $1[i] created user $2[i].
UPDATE gateway.signup_events AS e
SET user_id = l.user_id
FROM unnest($1::text[], $2::integer[]) AS l (event_id, user_id)
WHERE e.event_id = l.event_id
