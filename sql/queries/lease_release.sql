-- Gives lease $1's advisory lock back.
SELECT pg_advisory_unlock(1936484711, hashtext($1)) AS released
