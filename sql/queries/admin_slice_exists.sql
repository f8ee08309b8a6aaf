-- Whether slice $1 exists.
SELECT EXISTS (SELECT FROM gateway.slices WHERE id = $1) AS found
