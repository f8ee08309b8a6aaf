-- The instances that beat within the last $1 seconds, with the shards each holds.
SELECT service_id, shards::text AS shards, seen_at
FROM gateway.instances
WHERE seen_at > now() - make_interval(secs => $1::double precision)
ORDER BY service_id
