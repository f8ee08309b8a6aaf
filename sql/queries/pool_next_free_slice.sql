-- Locks the available slice that is next in line (not known to be unhealthy, lowest id) until
-- the transaction ends; rows another transaction holds are skipped. No row when none is free.
SELECT id
FROM gateway.slices
WHERE status = 'available'
  AND user_id IS NULL
  AND healthy IS NOT FALSE
ORDER BY id
LIMIT 1
FOR UPDATE SKIP LOCKED
