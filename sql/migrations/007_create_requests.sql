-- 007: idempotency keys of `slices.create`. `slices.create` answers once the new rows exist,
-- before their wipes end; a caller that timed out and retries with the same key gets the
-- slices of its first request instead of a second set. Idempotent; one transaction.

-- Quiet the "already exists, skipping" notices of a re-run.
SET LOCAL client_min_messages = warning;

-- One row per create request that carried a key: the slices it made, in order. No foreign
-- key (an array cannot have one); slices are never deleted, only wiped and reused.
CREATE TABLE IF NOT EXISTS gateway.create_requests (
    idempotency_key TEXT        PRIMARY KEY,
    slice_ids       INTEGER[]   NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Keys are remembered for 24 hours; each keyed create deletes the older ones by age.
CREATE INDEX IF NOT EXISTS idx_create_requests_created ON gateway.create_requests (created_at);

COMMENT ON TABLE gateway.create_requests IS
    'Idempotency keys of slices.create and the slices each request made; kept 24 hours';
