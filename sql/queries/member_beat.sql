-- Instance $1 is alive and holds watch shards $2; forgets instances silent for an hour.
WITH gone AS (
    DELETE FROM gateway.instances
    WHERE seen_at < now() - interval '1 hour' AND service_id <> $1
)
INSERT INTO gateway.instances AS i (service_id, started_at, seen_at, shards)
VALUES ($1, now(), now(), $2::integer[])
ON CONFLICT (service_id) DO UPDATE
SET seen_at = now(), shards = EXCLUDED.shards
