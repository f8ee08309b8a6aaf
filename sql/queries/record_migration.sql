-- Records migration $1 (number) named $2 as applied, in the transaction that applied it.
INSERT INTO gateway.schema_migrations (version, name) VALUES ($1, $2)
