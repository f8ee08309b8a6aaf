-- Records holder $2 of lease $1 (whose lock this session holds) in a new term; returns it.
INSERT INTO gateway.leases AS l (name, holder, term, acquired_at, renewed_at)
VALUES ($1, $2, 1, now(), now())
ON CONFLICT (name) DO UPDATE
SET holder = EXCLUDED.holder, term = l.term + 1, acquired_at = now(), renewed_at = now()
RETURNING term
