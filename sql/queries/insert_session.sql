-- Stores session $1 of user $2, expiring at $3 and created at $4 (both ISO 8601).
INSERT INTO gateway.sessions (id, user_id, expires_at, created_at)
VALUES ($1, $2, $3::timestamptz, $4::timestamptz)
