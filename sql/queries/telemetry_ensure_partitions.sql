-- Creates the missing day partitions of both telemetry tables for every UTC day from the day
-- of $1 (the retention cutoff, ISO 8601) through $3 days after $2 (now); replies with how many
-- it created (migration 009 installs the function).
SELECT gateway.ensure_telemetry_partitions('gateway.telemetry', $1::timestamptz,
                                           $2::timestamptz + make_interval(days => $3::integer))
       + gateway.ensure_telemetry_partitions('gateway.server_telemetry', $1::timestamptz,
                                             $2::timestamptz
                                               + make_interval(days => $3::integer))
         AS created
