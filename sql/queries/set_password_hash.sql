-- Replaces user $1's password hash with $2; replies with the id, no row if there is no user $1.
UPDATE gateway.users SET password_hash = $2 WHERE id = $1 RETURNING id
