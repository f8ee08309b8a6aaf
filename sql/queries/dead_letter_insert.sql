-- Keeps a rejected event: subject $1, event id $2 (or NULL), body $3 (bytes), reason $4,
-- stream sequence $5 (or NULL), deliveries $6. A redelivery of the same stored event updates
-- its row. Returns the row's id.
INSERT INTO gateway.dead_letters (subject, event_id, payload, reason, stream_sequence, deliveries)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (subject, stream_sequence, md5(payload)) DO UPDATE
SET reason = EXCLUDED.reason,
    deliveries = EXCLUDED.deliveries,
    rejected_at = now()
RETURNING id
