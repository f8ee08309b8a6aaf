-- Locks user $1 until the transaction ends and tells its slice (NULL: none). No row when there
-- is no user $1.
SELECT id, slice_id
FROM gateway.users
WHERE id = $1
FOR UPDATE
