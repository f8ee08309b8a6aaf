-- The lifecycle actions the billing policy (DESIGN.md section 3) asks for at $1, for every
-- slice, or only for user $4's (NULL: all), or only for slice $5 (NULL: all). $2 is $1 minus the past-due grace period, $3 is $1
-- minus the data retention. One row per slice that needs an action, by slice id; each slice
-- gets the first rule that applies:
--   1. destroy a slice still held for a user who no longer exists;
--   2. destroy a cancelled user's slice once the data retention after the end has passed;
--   3. suspend a cancelled user's slice once the subscription has ended;
--   4. suspend at once when Stripe says unpaid or paused;
--   5. suspend once past_due has lasted longer than the grace period;
--   6. suspend a trial that has ended without payment;
--   7. resume a slice that billing suspended once its user is active, or in a running trial;
--   8. finish a wipe that failed or was interrupted (status destroying).
-- A cancellation without an end date counts from the billing event that cancelled; one with
-- neither is suspended but never destroyed by the sweep. An admin's suspension (a reason not
-- starting with 'billing:') is never undone here.
WITH candidates AS (
    SELECT s.id AS slice_id,
           s.user_id,
           s.status,
           s.status_reason,
           -- ON DELETE SET NULL: the user row was deleted while holding the slice.
           s.user_id IS NULL AND s.status IN ('assigned', 'suspended') AS orphaned,
           u.subscription_status AS subscription,
           u.stripe_status,
           u.subscription_ends_at AS ends_at,
           coalesce(u.subscription_ends_at, u.billing_updated_at) AS ended_at,
           coalesce(u.past_due_since, u.billing_updated_at) AS past_due_since
    FROM gateway.slices s
    LEFT JOIN gateway.users u ON u.id = s.user_id
    WHERE ($4::integer IS NULL OR s.user_id = $4::integer)
      AND ($5::integer IS NULL OR s.id = $5::integer)
      AND s.status IN ('assigned', 'suspended', 'destroying')
)
SELECT c.slice_id, c.user_id, c.status, verdict.action, verdict.reason
FROM candidates c
CROSS JOIN LATERAL (
    SELECT rule.action, rule.reason
    FROM (VALUES
        (1, c.orphaned,
            'destroy', 'orphaned: the slice''s user no longer exists'),
        (2, c.status <> 'destroying' AND c.subscription = 'cancelled'
            AND c.ended_at <= $3::timestamptz,
            'destroy', 'billing: data retention after cancellation ended'),
        (3, c.status = 'assigned' AND c.subscription = 'cancelled'
            AND (c.ended_at IS NULL OR c.ended_at <= $1::timestamptz),
            'suspend', 'billing: subscription ended'),
        (4, c.status = 'assigned' AND c.subscription = 'past_due'
            AND c.stripe_status IN ('unpaid', 'paused'),
            'suspend', 'billing: stripe status ' || c.stripe_status),
        (5, c.status = 'assigned' AND c.subscription = 'past_due'
            AND c.past_due_since <= $2::timestamptz,
            'suspend', 'billing: past due beyond the grace period'),
        (6, c.status = 'assigned' AND c.subscription = 'trial'
            AND c.ends_at <= $1::timestamptz,
            'suspend', 'billing: trial ended'),
        (7, c.status = 'suspended' AND c.status_reason LIKE 'billing:%'
            AND (c.subscription = 'active'
                 OR (c.subscription = 'trial'
                     AND (c.ends_at IS NULL OR c.ends_at > $1::timestamptz))),
            'resume', 'billing: subscription ' || c.subscription),
        (8, c.status = 'destroying',
            'destroy', 'wipe retried')
    ) AS rule (rank, applies, action, reason)
    WHERE rule.applies
    ORDER BY rule.rank
    LIMIT 1
) verdict
ORDER BY c.slice_id
