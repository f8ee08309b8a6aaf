-- Records that the create request with idempotency key $1 made slices $2, a comma-separated
-- list of ids in order (libpqxx 6 binds no arrays). Run in the transaction that inserted them.
INSERT INTO gateway.create_requests (idempotency_key, slice_ids)
VALUES ($1::text, string_to_array($2::text, ',')::integer[])
