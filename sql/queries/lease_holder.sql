-- Who holds lease $1 as recorded, if anyone ever did.
SELECT holder FROM gateway.leases WHERE name = $1
