-- direct: CREATE DATABASE runs outside a transaction and takes no bind parameters.
-- Creates the slice template database, owned by slicegate's own role, which no slice holds.
-- {template} is replaced with the validated, quoted name.
CREATE DATABASE {template}
