-- Serializes concurrent migrators (two daemons starting at once) until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended('slicegate.schema_migrations', 0))
