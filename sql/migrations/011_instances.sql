-- 011: the live slicegate instances on this database, for spreading the slice watchers over
-- them. Each instance beats its row every lease interval and says which watch shards it
-- holds; the shards themselves are session advisory locks on the instance's lease connection,
-- so a shard is watched by at most one instance at a time and is free again the moment its
-- holder's connection closes. A row not beaten within the member timeout is a dead instance.
-- Idempotent; one transaction.

-- Quiet the "already exists, skipping" notices of a re-run.
SET LOCAL client_min_messages = warning;

CREATE TABLE IF NOT EXISTS gateway.instances (
    -- The instance's service id, as `$SRV.INFO` shows it.
    service_id TEXT        PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL,
    -- The watch shards it holds, as of its last beat.
    shards     INTEGER[]   NOT NULL DEFAULT '{}'
);

COMMENT ON TABLE gateway.instances IS
    'The slicegate instances that beat recently, and the slice watch shards each holds';
