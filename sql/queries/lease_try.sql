-- Takes lease $1's advisory lock for this session if nobody holds it; true when held now.
SELECT pg_try_advisory_lock(1936484711, hashtext($1)) AS held
