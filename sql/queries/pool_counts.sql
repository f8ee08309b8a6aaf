-- The pool's size: all slices, those ready to hand out (available, no user, not known to be
-- unhealthy) and those being wiped (they become available once done).
SELECT count(*)::integer AS total,
       (count(*) FILTER (WHERE status = 'available'
                           AND user_id IS NULL
                           AND healthy IS NOT FALSE))::integer AS ready,
       (count(*) FILTER (WHERE status = 'destroying'))::integer AS destroying
FROM gateway.slices
