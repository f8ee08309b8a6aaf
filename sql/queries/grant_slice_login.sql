-- Makes role wa_slice_<$1> a login with the SCRAM verifier $2 and connection limit $3 (see
-- slice_roles.grant_login in sql/setup.sql, which runs with the rights to make roles).
SELECT slice_roles.grant_login($1, $2, $3)
