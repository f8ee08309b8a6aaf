-- Whether migration $1 (its number) has been applied.
SELECT EXISTS (SELECT FROM gateway.schema_migrations WHERE version = $1) AS applied
