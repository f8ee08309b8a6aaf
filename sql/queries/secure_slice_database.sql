-- direct: ALTER DATABASE and REVOKE take no bind parameters.
-- Makes a slice database its role's alone: owned by it, with no CONNECT or TEMPORARY for
-- PUBLIC. {name} and {owner} are replaced with validated, quoted names.
ALTER DATABASE {name} OWNER TO {owner};
REVOKE CONNECT, TEMPORARY ON DATABASE {name} FROM PUBLIC
