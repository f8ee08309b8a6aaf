-- direct: ALTER DATABASE takes no bind parameters.
-- A template database cannot be dropped: this makes it an ordinary one first. {template} is
-- replaced with the validated, quoted name.
ALTER DATABASE {template} IS_TEMPLATE false
