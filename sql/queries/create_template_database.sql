-- direct: CREATE DATABASE runs outside a transaction and takes no bind parameters.
-- Creates the slice template database, owned by wa_slice. {template} is replaced with the
-- validated, quoted name.
CREATE DATABASE {template} OWNER wa_slice
