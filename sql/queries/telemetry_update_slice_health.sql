-- Writes the health columns of slice $1 as its last probe left them: checked at $2 (ISO 8601),
-- healthy $3, wa_connected $4. The phone $6 is written only when the slice answered ($5): an
-- unreachable slice says nothing about its phone. A NULL $7 keeps the stored storage_bytes
-- (disk usage is measured on a slower cadence). No row is affected if the slice is gone.
UPDATE gateway.slices
SET last_health_at = $2::timestamptz,
    healthy = $3::boolean,
    wa_connected = $4::boolean,
    wa_phone = CASE WHEN $5::boolean THEN $6::text ELSE wa_phone END,
    storage_bytes = COALESCE($7::bigint, storage_bytes)
WHERE id = $1
