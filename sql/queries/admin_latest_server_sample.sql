-- The newest host sample (idx_server_telemetry_time), its time as microseconds since the
-- epoch.
SELECT (extract(epoch FROM "timestamp") * 1000000)::bigint AS at_us,
       ram_used_bytes, ram_total_bytes, swap_used_bytes, swap_total_bytes, cpu_percent,
       disk_used_bytes, disk_total_bytes, active_slices, total_slices
FROM gateway.server_telemetry
ORDER BY "timestamp" DESC
LIMIT 1
