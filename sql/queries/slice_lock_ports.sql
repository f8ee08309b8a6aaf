-- Serializes inserters of slices until the transaction ends. slice_insert reads which ports
-- are taken; a second inserter waits here, so its statement's snapshot sees the first one's
-- rows once that commits, and no two slices are offered the same port.
SELECT pg_advisory_xact_lock(hashtextextended('slicegate.slice_ports', 0))
