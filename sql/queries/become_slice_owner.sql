-- direct: SET cannot be prepared.
-- For the rest of the transaction, act as wa_slice, so that the objects the slice schema
-- creates belong to the role that owns the slice databases.
SET LOCAL ROLE wa_slice
