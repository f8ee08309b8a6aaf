-- Bounds how long the provisioner's statements wait for a lock ($1) and run ($2), in
-- milliseconds (0: no limit), for the rest of the session.
SELECT pg_catalog.set_config('lock_timeout', $1, false) AS lock_timeout,
       pg_catalog.set_config('statement_timeout', $2, false) AS statement_timeout
