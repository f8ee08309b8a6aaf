-- Writes the health columns of a batch of slices as their last probes left them, one element
-- of each array per slice: slice $1, checked at $2 (ISO 8601), healthy $3, wa_connected $4.
-- The phone $6 is written only when the slice answered ($5): an unreachable slice says
-- nothing about its phone. A NULL $7 keeps the stored storage_bytes (disk usage is measured
-- on a slower cadence). A slice that is gone is skipped. The batch holds one element per
-- slice (the writer keeps only a slice's latest row).
UPDATE gateway.slices s
SET last_health_at = r.at,
    healthy = r.healthy,
    wa_connected = r.wa_connected,
    wa_phone = CASE WHEN r.answered THEN r.wa_phone ELSE s.wa_phone END,
    storage_bytes = COALESCE(r.storage_bytes, s.storage_bytes)
FROM unnest($1::integer[], $2::timestamptz[], $3::boolean[], $4::boolean[],
            $5::boolean[], $6::text[], $7::bigint[])
     AS r (slice_id, at, healthy, wa_connected, answered, wa_phone, storage_bytes)
WHERE s.id = r.slice_id
