-- Alerts raised since $1 (ISO 8601), newest first, at most $2 (idx_slice_alerts_time), with
-- the number raised since then in every row.
SELECT slice_id, (extract(epoch FROM "timestamp") * 1000000)::bigint AS at_us, kind, detail,
       count(*) OVER ()::integer AS total
FROM gateway.slice_alerts
WHERE "timestamp" >= $1::timestamptz
ORDER BY "timestamp" DESC, id DESC
LIMIT $2
