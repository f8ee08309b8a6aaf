-- Users by subscription status and admins, and the waiting queue (DESIGN.md section 3: no
-- slice, and active or in a trial that has not ended): its length and the creation time of its
-- oldest user, as microseconds since the epoch (NULL when nobody waits).
SELECT count(*)::integer AS total,
       count(*) FILTER (WHERE subscription_status = 'trial')::integer AS trial,
       count(*) FILTER (WHERE subscription_status = 'active')::integer AS active,
       count(*) FILTER (WHERE subscription_status = 'past_due')::integer AS past_due,
       count(*) FILTER (WHERE subscription_status = 'cancelled')::integer AS cancelled,
       count(*) FILTER (WHERE is_admin)::integer AS admins,
       count(*) FILTER (WHERE w.waiting)::integer AS waiting,
       (extract(epoch FROM min(created_at) FILTER (WHERE w.waiting)) * 1000000)::bigint
           AS oldest_waiting_us
FROM gateway.users,
     LATERAL (SELECT slice_id IS NULL
                     AND (subscription_status = 'active'
                          OR (subscription_status = 'trial'
                              AND (subscription_ends_at IS NULL
                                   OR subscription_ends_at > now()))) AS waiting) w
