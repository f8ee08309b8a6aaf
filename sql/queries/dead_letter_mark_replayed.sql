-- Dead letter $1 was published again now.
UPDATE gateway.dead_letters
SET replayed_at = now(), replays = replays + 1
WHERE id = $1
RETURNING id, subject, event_id, payload, reason, stream_sequence, deliveries,
          (extract(epoch FROM rejected_at) * 1000000)::bigint AS rejected_us,
          (extract(epoch FROM replayed_at) * 1000000)::bigint AS replayed_us,
          replays
