-- Whether sql/setup.sql has installed the function that makes slice roles.
SELECT pg_catalog.to_regprocedure('slice_roles.grant_login(integer,text,integer)') IS NOT NULL
  AS installed
