-- direct: ALTER DATABASE and REVOKE take no bind parameters.
-- Lets slicegate's role connect to the template to bring its schema up to date. Nobody else
-- may: CONNECT is not PUBLIC's. {template} is replaced with the validated, quoted name.
REVOKE CONNECT, TEMPORARY ON DATABASE {template} FROM PUBLIC;
ALTER DATABASE {template} IS_TEMPLATE false ALLOW_CONNECTIONS true
