-- The number of live sessions of user $1 at $2 (ISO 8601): not expired, and created after $3
-- (sessions created before it have reached their absolute end).
SELECT count(*)::integer AS live
FROM gateway.sessions
WHERE user_id = $1 AND expires_at > $2::timestamptz AND created_at > $3::timestamptz
