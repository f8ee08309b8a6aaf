-- 008: inbound events slicegate could never process (a body that does not decode, a checkout
-- refused for another customer's user, an internal error that outlived its retries), kept
-- with the original message, the reason and the time, so that an operator can list and
-- replay them (`slicectl dead-letters`). An event is acknowledged to JetStream only after its
-- row committed. Idempotent; one transaction.

-- Quiet the "already exists, skipping" notices of a re-run.
SET LOCAL client_min_messages = warning;

CREATE TABLE IF NOT EXISTS gateway.dead_letters (
    id              BIGSERIAL   PRIMARY KEY,
    -- The subject the event was published on, e.g. gateway.events.signup.
    subject         TEXT        NOT NULL,
    -- The body's `id`, when it has one.
    event_id        TEXT,
    -- The body exactly as it arrived, whatever its bytes.
    payload         BYTEA       NOT NULL,
    reason          TEXT        NOT NULL,
    -- Its sequence in the events stream, and how often it had been delivered.
    stream_sequence BIGINT,
    deliveries      BIGINT      NOT NULL DEFAULT 1,
    rejected_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The last time an operator published it again, and how often.
    replayed_at     TIMESTAMPTZ,
    replays         INTEGER     NOT NULL DEFAULT 0
);

COMMENT ON TABLE gateway.dead_letters IS
    'Inbound events rejected as unprocessable, with the original body: listed and replayed by operators';

-- A delivery whose acknowledgement was lost after the row committed comes back: it updates
-- its row instead of adding a second one.
CREATE UNIQUE INDEX IF NOT EXISTS idx_dead_letters_delivery
    ON gateway.dead_letters (subject, stream_sequence, md5(payload));

-- What waits for an operator.
CREATE INDEX IF NOT EXISTS idx_dead_letters_pending
    ON gateway.dead_letters (id) WHERE replayed_at IS NULL;

CREATE INDEX IF NOT EXISTS idx_dead_letters_time ON gateway.dead_letters (rejected_at);
