-- 012: the waiting queue's index holds only users who may wait for a slice. The index of 002
-- held every user without a slice, cancelled and past-due ones included, so that every
-- assignment pass and every queue position counted past them all: with a few thousand
-- cancelled accounts a burst of signups that wait slowed to half its speed
-- (bench/README.md, assign). The queue's order is (created_at, id), as the statements that
-- read it sort and compare. Idempotent; one transaction.

SET LOCAL client_min_messages = warning;

CREATE INDEX IF NOT EXISTS idx_users_waiting_queue ON gateway.users (created_at, id)
    WHERE slice_id IS NULL
      AND (subscription_status = 'active' OR subscription_status = 'trial');

DROP INDEX IF EXISTS gateway.idx_users_waiting;
