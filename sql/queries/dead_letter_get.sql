-- Dead letter $1.
SELECT id, subject, event_id, payload, reason, stream_sequence, deliveries,
       (extract(epoch FROM rejected_at) * 1000000)::bigint AS rejected_us,
       (extract(epoch FROM replayed_at) * 1000000)::bigint AS replayed_us,
       replays
FROM gateway.dead_letters
WHERE id = $1
