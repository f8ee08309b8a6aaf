-- Deletes at most $3 sessions that expired before $1 or were created before $2 (both
-- ISO 8601): one batch, so that a large backlog never holds locks for long.
DELETE FROM gateway.sessions
WHERE id IN (SELECT id
             FROM gateway.sessions
             WHERE expires_at < $1::timestamptz
                OR created_at < $2::timestamptz
             LIMIT $3)
