-- Inserts $1 slices on the smallest free ports of the series $2 + k * $3 (k = 0, 1, …), each
-- in status destroying with reason 'provisioning' and data directory $5/slice-<id>: the wipe
-- that follows makes it available, and a crash before then leaves a row that start-up
-- reconciliation finishes. Inserts nothing when the pool would grow past $4 slices
-- (0: no limit), and fewer than $1 when the series runs past port 65535. Run after
-- slice_lock_ports in the same transaction. Timestamps as microseconds since the epoch (*_us).
WITH pool AS (
    SELECT count(*)::integer AS total FROM gateway.slices
),
free AS (
    -- Among the first total + $1 ports of the series at least $1 are free.
    SELECT $2::integer + k * $3::integer AS port
    FROM pool, generate_series(0, pool.total + $1::integer - 1) AS k
    WHERE $2::integer + k * $3::integer <= 65535
      AND ($4::integer = 0 OR pool.total + $1::integer <= $4::integer)
      AND NOT EXISTS (SELECT FROM gateway.slices s WHERE s.port = $2::integer + k * $3::integer)
    ORDER BY k
    LIMIT $1::integer
),
numbered AS (
    -- A separate step, so that only the ports kept above draw ids from the sequence.
    SELECT port, nextval(pg_get_serial_sequence('gateway.slices', 'id'))::integer AS id
    FROM free
)
INSERT INTO gateway.slices (id, port, status, status_reason, data_dir)
SELECT id, port, 'destroying', 'provisioning', $5::text || '/slice-' || id
FROM numbered
ORDER BY id
RETURNING id, port, status, user_id, wa_connected, wa_phone,
          (extract(epoch FROM last_health_at) * 1000000)::bigint AS last_health_at_us,
          (extract(epoch FROM created_at) * 1000000)::bigint AS created_at_us,
          storage_bytes, healthy,
          (extract(epoch FROM status_changed_at) * 1000000)::bigint AS status_changed_at_us
