-- The role that owns database $1; no row when it does not exist.
SELECT pg_catalog.pg_get_userbyid(datdba) AS owner, datistemplate, datallowconn
FROM pg_catalog.pg_database
WHERE datname = $1
