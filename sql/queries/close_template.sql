-- direct: ALTER DATABASE takes no bind parameters.
-- Marks the template as one: any role with CREATEDB may copy it, nobody may connect to it, so
-- no session can hold it and make CREATE DATABASE wait. {template} is replaced with the
-- validated, quoted name.
ALTER DATABASE {template} IS_TEMPLATE true ALLOW_CONNECTIONS false
