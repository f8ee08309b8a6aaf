-- The slices that the create request with idempotency key $1 made, in the order it made them,
-- as they are now; no rows for an unknown key. Run after create_request_prune (expired keys
-- are gone) in the same transaction. Timestamps as microseconds since the epoch (*_us).
SELECT s.id, s.port, s.status, s.user_id, s.wa_connected, s.wa_phone,
       (extract(epoch FROM s.last_health_at) * 1000000)::bigint AS last_health_at_us,
       (extract(epoch FROM s.created_at) * 1000000)::bigint AS created_at_us,
       s.storage_bytes, s.healthy,
       (extract(epoch FROM s.status_changed_at) * 1000000)::bigint AS status_changed_at_us
FROM gateway.create_requests r
CROSS JOIN LATERAL unnest(r.slice_ids) WITH ORDINALITY AS made (id, n)
JOIN gateway.slices s ON s.id = made.id
WHERE r.idempotency_key = $1::text
ORDER BY made.n
