-- Serializes create requests with idempotency key $1 until the transaction ends: a second
-- request with the same key waits here, and its create_request_slices sees the first one's
-- key once that commits. Taken before slice_lock_ports, never after.
SELECT pg_advisory_xact_lock(hashtextextended('slicegate.create_request:' || $1::text, 0))
