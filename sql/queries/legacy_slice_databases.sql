-- Slice databases that an older version left owned by wa_slice, the one role every slice
-- used to log in as. $1 is the template, left out.
SELECT d.datname
FROM pg_catalog.pg_database d
JOIN pg_catalog.pg_roles r ON r.oid = d.datdba
WHERE r.rolname = 'wa_slice' AND d.datname ~ '^wa_slice_[0-9]{1,9}$' AND d.datname <> $1
ORDER BY d.datname
