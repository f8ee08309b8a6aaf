-- 003: billing events (Stripe), signup-event idempotency, and slice state the lifecycle needs.
-- Idempotent; one transaction.

-- Quiet the "already exists, skipping" notices of a re-run.
SET LOCAL client_min_messages = warning;

-- Every payment event received, applied or not: dedupe by Stripe event id, ordering per
-- subscription by Stripe `created`, audit. An event for a customer not yet linked to a user keeps
-- applied_at NULL until the link arrives.
CREATE TABLE IF NOT EXISTS gateway.billing_events (
    event_id             TEXT        PRIMARY KEY,          -- Stripe event id (evt_...)
    stripe_customer      TEXT,
    subscription_id      TEXT,
    type                 TEXT        NOT NULL,             -- Stripe event type
    stripe_status        TEXT,                             -- raw Stripe status (e.g. unpaid, paused)
    mapped_status        TEXT,                             -- trial, active, past_due, cancelled
    subscription_ends_at TIMESTAMPTZ,
    stripe_created       TIMESTAMPTZ NOT NULL,             -- the event's `created`
    received_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_at           TIMESTAMPTZ,                      -- NULL: not (yet) applied to a user
    user_id              INTEGER     REFERENCES gateway.users (id) ON DELETE SET NULL,
    payload              JSONB
);

CREATE INDEX IF NOT EXISTS idx_billing_events_customer
    ON gateway.billing_events (stripe_customer);
CREATE INDEX IF NOT EXISTS idx_billing_events_subscription
    ON gateway.billing_events (subscription_id, stripe_created DESC);

ALTER TABLE gateway.users ADD COLUMN IF NOT EXISTS stripe_status TEXT;
ALTER TABLE gateway.users ADD COLUMN IF NOT EXISTS billing_updated_at TIMESTAMPTZ;

COMMENT ON COLUMN gateway.users.stripe_status IS
    'Raw Stripe subscription status of the last applied billing event';
COMMENT ON COLUMN gateway.users.billing_updated_at IS
    'Stripe `created` of the last applied billing event; older events do not overwrite newer state';

-- Billing events arrive keyed by Stripe customer.
CREATE INDEX IF NOT EXISTS idx_users_stripe_customer ON gateway.users (stripe_customer);

ALTER TABLE gateway.slices ADD COLUMN IF NOT EXISTS healthy BOOLEAN;
ALTER TABLE gateway.slices ADD COLUMN IF NOT EXISTS data_dir TEXT;
ALTER TABLE gateway.slices
    ADD COLUMN IF NOT EXISTS status_changed_at TIMESTAMPTZ NOT NULL DEFAULT now();

COMMENT ON COLUMN gateway.slices.healthy IS
    'Result of the last health check; NULL = never checked';
COMMENT ON COLUMN gateway.slices.data_dir IS
    'Directory holding the slice''s data on the host';
COMMENT ON COLUMN gateway.slices.status_changed_at IS
    'When status last changed (time-based lifecycle transitions)';

-- Signup events already processed (JetStream may redeliver): idempotency by event id.
CREATE TABLE IF NOT EXISTS gateway.signup_events (
    event_id    TEXT        PRIMARY KEY,
    user_id     INTEGER     REFERENCES gateway.users (id) ON DELETE SET NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
