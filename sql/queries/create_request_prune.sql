-- Deletes idempotency keys older than $1 seconds: a repeat after that provisions anew. Run
-- after slice_lock_ports, so that two creates never prune the same rows at once.
DELETE FROM gateway.create_requests
WHERE created_at < now() - make_interval(secs => $1::integer)
