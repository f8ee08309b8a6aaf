-- 001: the gateway schema as seed/database-schema.txt defines it.
--
-- Applied by `slicegate migrate` (and at start-up) inside one transaction, as wank_gateway.
-- Idempotent: safe to run again on a database that already has it. Plain SQL only (no psql
-- meta-commands), because the migration runner sends the file as is.

-- Quiet the "already exists, skipping" notices of a re-run.
SET LOCAL client_min_messages = warning;

CREATE SCHEMA IF NOT EXISTS gateway;

-- Applied migrations; the runner inserts one row per file after the file succeeded.
CREATE TABLE IF NOT EXISTS gateway.schema_migrations (
    version    INTEGER     PRIMARY KEY,
    name       TEXT        NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS gateway.users (
    id                   SERIAL      PRIMARY KEY,
    email                TEXT        NOT NULL UNIQUE,          -- lowercase, used for login
    password_hash        TEXT        NOT NULL,                 -- bcrypt, cost 12
    slice_id             INTEGER,                              -- FK added below; NULL while waiting
    stripe_customer      TEXT,
    subscription_status  TEXT        NOT NULL DEFAULT 'trial', -- trial, active, past_due, cancelled
    subscription_id      TEXT,
    subscription_ends_at TIMESTAMPTZ,
    is_admin             BOOLEAN     NOT NULL DEFAULT false,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at        TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS gateway.slices (
    id             SERIAL      PRIMARY KEY,
    port           INTEGER     NOT NULL UNIQUE,              -- backend port: 5001, 5003, ...
    status         TEXT        NOT NULL DEFAULT 'available', -- available, assigned, suspended, destroying
    user_id        INTEGER,                                  -- FK added below; NULL when available
    wa_connected   BOOLEAN     NOT NULL DEFAULT false,
    wa_phone       TEXT,
    last_health_at TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    storage_bytes  BIGINT      NOT NULL DEFAULT 0
);

-- The users <-> slices cross-references, added once both tables exist. ON DELETE SET NULL: deleting
-- a slice puts its user back in the waiting queue; deleting a user frees the reference.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                   WHERE conname = 'users_slice_id_fkey'
                     AND conrelid = 'gateway.users'::regclass) THEN
        ALTER TABLE gateway.users
            ADD CONSTRAINT users_slice_id_fkey FOREIGN KEY (slice_id)
                REFERENCES gateway.slices (id) ON DELETE SET NULL;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                   WHERE conname = 'slices_user_id_fkey'
                     AND conrelid = 'gateway.slices'::regclass) THEN
        ALTER TABLE gateway.slices
            ADD CONSTRAINT slices_user_id_fkey FOREIGN KEY (user_id)
                REFERENCES gateway.users (id) ON DELETE SET NULL;
    END IF;
END
$$;

-- id is the hex SHA-256 of the 256-bit token the client holds (64 hex chars).
CREATE TABLE IF NOT EXISTS gateway.sessions (
    id         TEXT        PRIMARY KEY,
    user_id    INTEGER     NOT NULL REFERENCES gateway.users (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,                        -- 30-day rolling expiry
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Per-slice time series, one row per slice every 60 s; 7-day retention.
CREATE TABLE IF NOT EXISTS gateway.telemetry (
    id          BIGSERIAL   PRIMARY KEY,
    slice_id    INTEGER     NOT NULL REFERENCES gateway.slices (id) ON DELETE CASCADE,
    "timestamp" TIMESTAMPTZ NOT NULL DEFAULT now(),
    rss_bytes   BIGINT,                                     -- container memory as docker stats shows it
    wa_state    TEXT,                                       -- WhatsApp connection state
    cpu_percent NUMERIC,                                    -- container CPU %
    disk_bytes  BIGINT                                      -- slice disk usage
);

CREATE INDEX IF NOT EXISTS idx_telemetry_slice_time
    ON gateway.telemetry (slice_id, "timestamp" DESC);

-- Server-level time series, one row every 60 s; 7-day retention.
CREATE TABLE IF NOT EXISTS gateway.server_telemetry (
    id               BIGSERIAL   PRIMARY KEY,
    "timestamp"      TIMESTAMPTZ NOT NULL DEFAULT now(),
    ram_used_bytes   BIGINT,
    ram_total_bytes  BIGINT,
    swap_used_bytes  BIGINT,
    swap_total_bytes BIGINT,
    cpu_percent      REAL,
    disk_used_bytes  BIGINT,
    disk_total_bytes BIGINT,
    active_slices    INTEGER,                               -- assigned slice count
    total_slices     INTEGER                                -- all slices
);

CREATE INDEX IF NOT EXISTS idx_server_telemetry_time
    ON gateway.server_telemetry ("timestamp" DESC);
