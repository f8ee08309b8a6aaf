-- Stores one alert of slice $1 raised at $2 (ISO 8601).
INSERT INTO gateway.slice_alerts (slice_id, "timestamp", kind, detail)
VALUES ($1, $2::timestamptz, $3, $4)
