-- The samples of slice $1 in [$2, $3) (ISO 8601) aggregated per bucket of $4 seconds, each
-- bucket starting at a multiple of $4 seconds since the epoch; only buckets with samples.
-- idx_telemetry_slice_time serves the range. `wa_connected_share` is the share of samples in
-- which WhatsApp was connected (DESIGN.md section 3: CONNECTED or open); `disk_bytes_last` the
-- newest measured disk figure of the bucket.
SELECT (floor(extract(epoch FROM "timestamp") / $4) * $4)::bigint AS bucket_s,
       count(*)::integer AS samples,
       avg(rss_bytes)::float8 AS rss_bytes_avg,
       max(rss_bytes) AS rss_bytes_max,
       avg(cpu_percent)::float8 AS cpu_percent_avg,
       max(cpu_percent)::float8 AS cpu_percent_max,
       (array_agg(disk_bytes ORDER BY "timestamp" DESC)
            FILTER (WHERE disk_bytes IS NOT NULL))[1] AS disk_bytes_last,
       avg(CASE WHEN wa_state IN ('CONNECTED', 'open') THEN 1 ELSE 0 END)::float8
           AS wa_connected_share
FROM gateway.telemetry
WHERE slice_id = $1
  AND "timestamp" >= $2::timestamptz
  AND "timestamp" < $3::timestamptz
GROUP BY 1
ORDER BY 1
