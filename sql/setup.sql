-- One-time cluster setup for slicegate. Run as a PostgreSQL superuser with psql:
--
--     sql/setup.sh -h 127.0.0.1 -p 5432 -U postgres -d postgres
--
-- Safe to run again, and to run over an older slicegate's setup: every step checks before it
-- creates, and enforces what it finds.
--
-- Roles
--   wank_gateway      slicegate's own login. Owns the gateway database wank_saas and the slice
--                     template; CREATEDB lets it create and drop the slice databases without
--                     being a superuser. Member of every slice role (granted as each is made),
--                     which lets it create a slice's database owned by that slice's role.
--   wa_slice          a group role without login that every slice role belongs to. It owns
--                     nothing and grants nothing: it names the slice roles, for pg_hba.conf
--                     (`+wa_slice`) and for operators. (Older versions used it as the one login
--                     of every slice; a slice moves to its own role at its next start or wipe.)
--   wa_slice_<id>     one login per slice, made by slicegate: owns database wa_slice_<id> and
--                     everything in it, has a random password that slicegate sets anew each time
--                     it starts the slice afresh, and may connect to nothing else.
--   slicegate_roles   no login; CREATEROLE. Owns the functions in schema slice_roles of
--                     wank_saas, the only way wank_gateway makes and changes slice roles: it
--                     never holds CREATEROLE itself, which on PostgreSQL 15 and older would let
--                     it grant itself any non-superuser role.
--
-- CONNECT is revoked from PUBLIC on wank_saas, postgres and template1, so that a slice's login
-- opens its own database and no other; wank_gateway is granted CONNECT where it needs it.
--
-- Passwords are deliberately not set here: a development cluster uses trust (or peer) auth for
-- wank_gateway. For a cluster that authenticates with passwords, an operator sets it once, e.g.
-- in psql (\password sends only a hash, so the clear text never reaches the server log):
--
--     \password wank_gateway
--
-- compose.yaml does this through sql/compose-init.sh. Slice roles always have a password.

\set ON_ERROR_STOP on

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'wa_slice') THEN
        CREATE ROLE wa_slice NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'wank_gateway') THEN
        CREATE ROLE wank_gateway LOGIN CREATEDB;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'slicegate_roles') THEN
        CREATE ROLE slicegate_roles NOLOGIN CREATEROLE;
    END IF;
END
$$;

-- Enforce the attributes even when the roles existed before this script. wa_slice was a login
-- once; it is not any more, and it loses its password.
ALTER ROLE wa_slice NOLOGIN PASSWORD NULL;
ALTER ROLE wank_gateway LOGIN CREATEDB NOCREATEROLE;
ALTER ROLE slicegate_roles NOLOGIN CREATEROLE;

-- wank_gateway stays a member of wa_slice: databases and objects that an older version made
-- belong to wa_slice, and moving them to their slice's role needs that membership.
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

REVOKE CONNECT, TEMPORARY ON DATABASE wank_saas FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;
GRANT CONNECT ON DATABASE postgres TO wank_gateway;

-- The functions that make slice roles live in the gateway database.
\connect wank_saas

CREATE SCHEMA IF NOT EXISTS slice_roles AUTHORIZATION slicegate_roles;
ALTER SCHEMA slice_roles OWNER TO slicegate_roles;
REVOKE ALL ON SCHEMA slice_roles FROM PUBLIC;
GRANT USAGE ON SCHEMA slice_roles TO wank_gateway;

-- Makes role wa_slice_<slice_id> a login with the given password verifier (a
-- "SCRAM-SHA-256$…" string computed by the caller: the clear password never reaches the
-- server), creating it in group wa_slice when it does not exist, and grants it to the caller.
-- Refuses a role of that name that has any power beyond logging in.
CREATE OR REPLACE FUNCTION slice_roles.grant_login(slice_id integer, verifier text,
                                                   connection_limit integer)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    target name;
BEGIN
    IF slice_id IS NULL OR slice_id < 1 THEN
        RAISE EXCEPTION 'slice id must be positive' USING ERRCODE = '22023';
    END IF;
    IF verifier IS NULL OR verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
        RAISE EXCEPTION 'a slice password must be given as a SCRAM-SHA-256 verifier'
            USING ERRCODE = '22023';
    END IF;
    IF connection_limit IS NULL OR connection_limit < 1 THEN
        RAISE EXCEPTION 'connection limit must be positive' USING ERRCODE = '22023';
    END IF;
    target := 'wa_slice_' || slice_id;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = target
               AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)) THEN
        RAISE EXCEPTION 'role % exists with more than a login''s rights; slicegate leaves it alone',
            target USING ERRCODE = '42501';
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = target) THEN
        EXECUTE format('ALTER ROLE %I LOGIN INHERIT CONNECTION LIMIT %s PASSWORD %L',
                       target, connection_limit, verifier);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN INHERIT CONNECTION LIMIT %s PASSWORD %L',
                       target, connection_limit, verifier);
    END IF;
    IF NOT pg_has_role(target, 'wa_slice', 'MEMBER') THEN
        EXECUTE format('GRANT wa_slice TO %I', target);
    END IF;
    IF NOT pg_has_role(session_user, target, 'MEMBER') THEN
        EXECUTE format('GRANT %I TO %I', target, session_user);
    END IF;
END
$fn$;

ALTER FUNCTION slice_roles.grant_login(integer, text, integer) OWNER TO slicegate_roles;
REVOKE ALL ON FUNCTION slice_roles.grant_login(integer, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION slice_roles.grant_login(integer, text, integer) TO wank_gateway;
