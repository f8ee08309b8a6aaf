-- Deletes at most $2 dead letters rejected before $1 (ISO 8601): one batch.
DELETE FROM gateway.dead_letters
WHERE id IN (SELECT id
             FROM gateway.dead_letters
             WHERE rejected_at < $1::timestamptz
             ORDER BY rejected_at
             LIMIT $2)
