-- 010: the singleton lease of several slicegate instances on one database. The lease itself
-- is a session advisory lock, held as long as the holder's connection lives (a killed
-- process's connection closes, and the lock with it); this row says who holds it and counts
-- the takeovers (`term`), for operators and as a fencing token. Idempotent; one transaction.

-- Quiet the "already exists, skipping" notices of a re-run.
SET LOCAL client_min_messages = warning;

CREATE TABLE IF NOT EXISTS gateway.leases (
    name        TEXT        PRIMARY KEY,
    -- The holder's service id, as `$SRV.INFO` shows it.
    holder      TEXT        NOT NULL,
    term        BIGINT      NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    renewed_at  TIMESTAMPTZ NOT NULL
);

COMMENT ON TABLE gateway.leases IS
    'Who holds each singleton lease of the slicegate instances, and its term';
