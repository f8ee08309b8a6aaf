-- direct: DROP DATABASE runs outside a transaction and takes no bind parameters.
-- Drops a slice database, ending the sessions still connected to it. {name} is replaced with
-- the validated, quoted name.
DROP DATABASE IF EXISTS {name} WITH (FORCE)
