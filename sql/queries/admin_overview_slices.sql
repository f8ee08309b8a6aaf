-- Slices by status, and the health of the watched ones (available and assigned): healthy,
-- unhealthy, not checked yet; and the time of the snapshot, as microseconds since the epoch.
SELECT (extract(epoch FROM now()) * 1000000)::bigint AS now_us,
       count(*)::integer AS total,
       count(*) FILTER (WHERE status = 'available')::integer AS available,
       count(*) FILTER (WHERE status = 'assigned')::integer AS assigned,
       count(*) FILTER (WHERE status = 'suspended')::integer AS suspended,
       count(*) FILTER (WHERE status = 'destroying')::integer AS destroying,
       count(*) FILTER (WHERE status IN ('available', 'assigned') AND healthy)::integer
           AS healthy,
       count(*) FILTER (WHERE status IN ('available', 'assigned') AND NOT healthy)::integer
           AS unhealthy,
       count(*) FILTER (WHERE status IN ('available', 'assigned') AND healthy IS NULL)::integer
           AS unchecked
FROM gateway.slices
