-- Deletes session $1; no row is affected if it did not exist.
DELETE FROM gateway.sessions WHERE id = $1
