-- Whether database $1 exists in the cluster.
SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = $1) AS present
