-- direct: CREATE DATABASE runs outside a transaction and takes no bind parameters.
-- Creates a slice database as a copy of the template, owned by the slice's own role. {name},
-- {template} and {owner} are replaced with validated, quoted names.
CREATE DATABASE {name} TEMPLATE {template} OWNER {owner}
