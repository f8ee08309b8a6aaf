-- 002: integrity the seed implies (DESIGN.md section 2). Idempotent; one transaction.

-- Quiet the "already exists, skipping" notices of a re-run.
SET LOCAL client_min_messages = warning;

DO $$
BEGIN
    -- Status columns hold only their listed values.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                   WHERE conname = 'users_subscription_status_check'
                     AND conrelid = 'gateway.users'::regclass) THEN
        ALTER TABLE gateway.users
            ADD CONSTRAINT users_subscription_status_check
                CHECK (subscription_status IN ('trial', 'active', 'past_due', 'cancelled'));
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                   WHERE conname = 'slices_status_check'
                     AND conrelid = 'gateway.slices'::regclass) THEN
        ALTER TABLE gateway.slices
            ADD CONSTRAINT slices_status_check
                CHECK (status IN ('available', 'assigned', 'suspended', 'destroying'));
    END IF;

    -- A user has at most one slice and a slice at most one user (NULLs do not collide).
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                   WHERE conname = 'users_slice_id_key'
                     AND conrelid = 'gateway.users'::regclass) THEN
        ALTER TABLE gateway.users ADD CONSTRAINT users_slice_id_key UNIQUE (slice_id);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                   WHERE conname = 'slices_user_id_key'
                     AND conrelid = 'gateway.slices'::regclass) THEN
        ALTER TABLE gateway.slices ADD CONSTRAINT slices_user_id_key UNIQUE (user_id);
    END IF;

    -- E-mail is stored lowercase; with the UNIQUE from 001 it is unique case-insensitively.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                   WHERE conname = 'users_email_lower_check'
                     AND conrelid = 'gateway.users'::regclass) THEN
        ALTER TABLE gateway.users
            ADD CONSTRAINT users_email_lower_check CHECK (email = lower(email));
    END IF;

    -- A session id is the hex SHA-256 of the client's token: 64 lowercase hex chars.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                   WHERE conname = 'sessions_id_format_check'
                     AND conrelid = 'gateway.sessions'::regclass) THEN
        ALTER TABLE gateway.sessions
            ADD CONSTRAINT sessions_id_format_check CHECK (id ~ '^[0-9a-f]{64}$');
    END IF;
END
$$;

-- Revoke all sessions of a user; the FK's ON DELETE CASCADE.
CREATE INDEX IF NOT EXISTS idx_sessions_user_id ON gateway.sessions (user_id);
-- Retention deletes expired sessions.
CREATE INDEX IF NOT EXISTS idx_sessions_expires_at ON gateway.sessions (expires_at);
-- The waiting queue: users without a slice, oldest first.
CREATE INDEX IF NOT EXISTS idx_users_waiting ON gateway.users (created_at) WHERE slice_id IS NULL;
-- Retention deletes telemetry older than 7 days across all slices.
CREATE INDEX IF NOT EXISTS idx_telemetry_time ON gateway.telemetry ("timestamp");
