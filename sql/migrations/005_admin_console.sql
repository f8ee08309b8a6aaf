-- 005: what the admin console reads (DESIGN.md section 4, `overview`). Idempotent; one
-- transaction.

-- Quiet the "already exists, skipping" notices of a re-run.
SET LOCAL client_min_messages = warning;

-- Every slice alert as it was published on `<prefix>.slice.alert.<id>`, so that the overview
-- can show the alerts of the last hour whichever instance raised them. Pruned with telemetry.
CREATE TABLE IF NOT EXISTS gateway.slice_alerts (
    id          BIGSERIAL   PRIMARY KEY,
    slice_id    INTEGER     NOT NULL REFERENCES gateway.slices (id) ON DELETE CASCADE,
    "timestamp" TIMESTAMPTZ NOT NULL,
    kind        TEXT        NOT NULL
                CHECK (kind IN ('unhealthy', 'recovered', 'wa_disconnected', 'wa_connected',
                                'restarted', 'memory_high', 'disk_high')),
    detail      TEXT        NOT NULL DEFAULT ''
);

CREATE INDEX IF NOT EXISTS idx_slice_alerts_time ON gateway.slice_alerts ("timestamp" DESC);

-- The waiting queue in creation order (the overview's oldest wait, the users list's paging).
CREATE INDEX IF NOT EXISTS idx_users_created ON gateway.users (created_at DESC, id DESC);
