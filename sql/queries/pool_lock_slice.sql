-- Locks slice $1 until the transaction ends and tells its status and user. No row when there
-- is no slice $1.
SELECT id, status, user_id
FROM gateway.slices
WHERE id = $1
FOR UPDATE
