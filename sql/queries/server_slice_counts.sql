-- Counts slices: `active` are those assigned to a user, `total` all of them.
SELECT count(*) FILTER (WHERE status = 'assigned')::integer AS active,
       count(*)::integer AS total
FROM gateway.slices
