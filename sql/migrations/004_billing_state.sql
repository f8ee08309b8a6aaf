-- 004: billing state the slice policy reads (DESIGN.md section 3). Idempotent; one transaction.

-- Quiet the "already exists, skipping" notices of a re-run.
SET LOCAL client_min_messages = warning;

-- When the user last entered past_due; the grace period before suspension counts from here.
ALTER TABLE gateway.users ADD COLUMN IF NOT EXISTS past_due_since TIMESTAMPTZ;

-- Why a slice is in its status, e.g. 'provisioning', 'admin: abuse report',
-- 'billing: trial ended'. Suspensions whose reason starts with 'billing:' are undone when the
-- user's subscription is in good standing again; an admin's are not.
ALTER TABLE gateway.slices ADD COLUMN IF NOT EXISTS status_reason TEXT;

-- Billing events that wait for their Stripe customer to be linked to a user: a checkout looks
-- them up by customer, oldest first. Applied events, the vast majority, stay out of it.
CREATE INDEX IF NOT EXISTS idx_billing_events_waiting
    ON gateway.billing_events (stripe_customer, stripe_created)
    WHERE user_id IS NULL AND applied_at IS NULL;

-- Whom a checkout names, as the edge read it: a checkout that arrives before its user exists
-- waits, and links the user once created.
ALTER TABLE gateway.billing_events ADD COLUMN IF NOT EXISTS client_reference_id INTEGER;
ALTER TABLE gateway.billing_events ADD COLUMN IF NOT EXISTS customer_email TEXT;

COMMENT ON COLUMN gateway.billing_events.client_reference_id IS
    'A checkout''s client_reference_id when it is a user id';
COMMENT ON COLUMN gateway.billing_events.customer_email IS
    'A checkout''s customer e-mail (customer_details.email, else customer_email)';
