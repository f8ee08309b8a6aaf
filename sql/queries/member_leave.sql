-- Instance $1 stops: its row goes, so that the others rebalance at once.
DELETE FROM gateway.instances WHERE service_id = $1
