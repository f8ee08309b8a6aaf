-- Stores one host sample taken at $1 (ISO 8601).
INSERT INTO gateway.server_telemetry
    ("timestamp", ram_used_bytes, ram_total_bytes, swap_used_bytes, swap_total_bytes,
     cpu_percent, disk_used_bytes, disk_total_bytes, active_slices, total_slices)
VALUES ($1::timestamptz, $2, $3, $4, $5, $6, $7, $8, $9, $10)
