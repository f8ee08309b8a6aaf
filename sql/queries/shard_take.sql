-- Takes the advisory lock of each watch shard in $1 that nobody holds; returns those taken.
SELECT s AS shard
FROM unnest($1::integer[]) AS s
WHERE pg_try_advisory_lock(1936484712, s)
