-- Locks every admin row, so that two admins demoting each other at once cannot both see the
-- other one still there; replies with their ids.
SELECT id FROM gateway.users WHERE is_admin ORDER BY id FOR UPDATE
