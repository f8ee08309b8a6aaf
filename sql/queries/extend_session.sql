-- Moves session $1's expiry to $2 (ISO 8601); no row is affected if the session is gone.
UPDATE gateway.sessions SET expires_at = $2::timestamptz WHERE id = $1
