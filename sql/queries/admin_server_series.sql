-- Host samples in [$1, $2) (ISO 8601) aggregated per bucket of $3 seconds, each bucket
-- starting at a multiple of $3 seconds since the epoch; only buckets with samples.
-- idx_server_telemetry_time serves the range. Totals and slice counts are the bucket's
-- newest; usage is averaged, with the peak where one matters.
SELECT (floor(extract(epoch FROM "timestamp") / $3) * $3)::bigint AS bucket_s,
       count(*)::integer AS samples,
       avg(ram_used_bytes)::float8 AS ram_used_bytes_avg,
       max(ram_used_bytes) AS ram_used_bytes_max,
       (array_agg(ram_total_bytes ORDER BY "timestamp" DESC))[1] AS ram_total_bytes,
       avg(swap_used_bytes)::float8 AS swap_used_bytes_avg,
       (array_agg(swap_total_bytes ORDER BY "timestamp" DESC))[1] AS swap_total_bytes,
       avg(cpu_percent)::float8 AS cpu_percent_avg,
       max(cpu_percent)::float8 AS cpu_percent_max,
       (array_agg(disk_used_bytes ORDER BY "timestamp" DESC))[1] AS disk_used_bytes_last,
       (array_agg(disk_total_bytes ORDER BY "timestamp" DESC))[1] AS disk_total_bytes,
       (array_agg(active_slices ORDER BY "timestamp" DESC))[1] AS active_slices_last,
       (array_agg(total_slices ORDER BY "timestamp" DESC))[1] AS total_slices_last
FROM gateway.server_telemetry
WHERE "timestamp" >= $1::timestamptz
  AND "timestamp" < $2::timestamptz
GROUP BY 1
ORDER BY 1
