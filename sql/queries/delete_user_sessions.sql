-- Deletes every session of user $1 but session $2 (NULL: keep none); replies with the ids.
DELETE FROM gateway.sessions
WHERE user_id = $1
  AND ($2::text IS NULL OR id <> $2::text)
RETURNING id
