-- direct: DDL, more than one statement; run by the migrator before it reads what was applied.
-- Makes sure the migrations table exists, so that the applied versions can be read before
-- 001_gateway_schema.sql (which creates the same table, IF NOT EXISTS) has run. Keep the
-- definition identical to the one in 001.
SET LOCAL client_min_messages = warning;

CREATE SCHEMA IF NOT EXISTS gateway;

CREATE TABLE IF NOT EXISTS gateway.schema_migrations (
    version    INTEGER     PRIMARY KEY,
    name       TEXT        NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
