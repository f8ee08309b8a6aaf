-- Gives back the advisory locks of the watch shards in $1.
SELECT count(*) FILTER (WHERE pg_advisory_unlock(1936484712, s)) AS released
FROM unnest($1::integer[]) AS s
