-- Locks slice $1 and its user, if it has one, until the end of the transaction: a billing
-- change to that user then waits, and what the policy decides next sees every change that
-- committed before.
SELECT s.id
FROM gateway.slices s
LEFT JOIN LATERAL (
    SELECT u.id FROM gateway.users u WHERE u.id = s.user_id FOR UPDATE
) AS holder ON true
WHERE s.id = $1
FOR UPDATE OF s
