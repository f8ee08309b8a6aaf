-- Lease $1 is still held by $2 in term $3; no row when someone else took it since.
UPDATE gateway.leases
SET renewed_at = now()
WHERE name = $1 AND holder = $2 AND term = $3
RETURNING term
