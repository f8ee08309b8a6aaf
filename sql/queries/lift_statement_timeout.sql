-- For the rest of the transaction, no statement_timeout: a migration may rebuild an index on
-- a large table.
SELECT pg_catalog.set_config('statement_timeout', '0', true) AS statement_timeout
