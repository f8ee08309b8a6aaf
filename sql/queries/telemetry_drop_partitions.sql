-- Drops the day partitions of both telemetry tables whose whole UTC day lies before $1 (the
-- retention cutoff, ISO 8601); replies with how many it dropped and how many a reader held
-- past the lock timeout (left for the next pass). Migration 009 installs the function.
SELECT t.dropped + s.dropped AS dropped, t.busy + s.busy AS busy
FROM gateway.drop_telemetry_partitions_before('gateway.telemetry', $1::timestamptz) AS t,
     gateway.drop_telemetry_partitions_before('gateway.server_telemetry', $1::timestamptz) AS s
