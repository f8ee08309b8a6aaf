-- One-time cluster setup for slicegate. Run as a PostgreSQL superuser with psql:
--
--     sql/setup.sh -h 127.0.0.1 -p 5432 -U postgres -d postgres
--
-- Safe to run again: every step checks before it creates.
--
-- Roles
--   wa_slice      owns the per-slice CRM databases (wa_slice_N and their template).
--   wank_gateway  owns the gateway database wank_saas; CREATEDB and membership in wa_slice let it
--                 create, re-create and drop slice databases owned by wa_slice, so slicegate
--                 never needs a superuser.
--
-- Passwords are deliberately not set here: a development cluster uses trust (or peer) auth. For a
-- cluster that authenticates with passwords, an operator sets them once, e.g. in psql:
--
--     \password wank_gateway
--     -- or
--     ALTER ROLE wank_gateway PASSWORD 'change-me';
--     ALTER ROLE wa_slice PASSWORD 'change-me';
--
-- (\password sends only a hash, so the clear text never reaches the server log.) compose.yaml does
-- this through sql/compose-init.sh.

\set ON_ERROR_STOP on

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'wa_slice') THEN
        CREATE ROLE wa_slice LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'wank_gateway') THEN
        CREATE ROLE wank_gateway LOGIN CREATEDB;
    END IF;
END
$$;

-- Enforce the attributes even when the roles existed before this script.
ALTER ROLE wa_slice LOGIN;
ALTER ROLE wank_gateway LOGIN CREATEDB;

DO $$
BEGIN
    IF NOT pg_catalog.pg_has_role('wank_gateway', 'wa_slice', 'MEMBER') THEN
        GRANT wa_slice TO wank_gateway;
    END IF;
END
$$;

SELECT 'CREATE DATABASE wank_saas OWNER wank_gateway'
WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'wank_saas')
\gexec
