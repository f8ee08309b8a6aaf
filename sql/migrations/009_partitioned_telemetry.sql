-- 009: gateway.telemetry and gateway.server_telemetry partitioned by UTC day.
--
-- At 10,000 slices the per-slice table takes 14.4 M rows a day; deleting a day row by row
-- costs as much as writing it, while dropping a day's partition costs a catalog update. Each
-- table becomes RANGE-partitioned on "timestamp", one partition per UTC day named
-- <table>_pYYYYMMDD, with the seed's columns, defaults, foreign key and indexes (partitioned
-- indexes, so every partition has them).
--
-- The primary key becomes (id, "timestamp"): a key of a partitioned table must contain the
-- partition key. id still draws from the same sequence, so it stays unique in practice.
--
-- No default partition: a row for a day without a partition fails, so the partitions are made
-- ahead, here and by every retention pass (db::maintain_partitions: every day from the
-- retention cutoff's through today + 3 days). A row older than the retention period is
-- refused rather than stored to be deleted within the hour. A default partition would hide a
-- maintenance that stopped, and every new partition would then have to scan it.
--
-- An existing unpartitioned table is converted in place with its rows, inside the migration's
-- one transaction: the table is locked for writes while its rows are copied (minutes at
-- 100 M rows; the telemetry writer buffers meanwhile). Idempotent: once a table is
-- partitioned, a re-run only replaces the functions and makes the partitions ahead.

SET LOCAL client_min_messages = warning;

-- Creates the missing day partitions of p_parent (one of the two telemetry tables) for every
-- UTC day from the day of p_from through the day of p_to; returns how many it created. Names
-- and bounds are quoted by format(), never pasted from a caller's text. CREATE TABLE …
-- PARTITION OF locks the table against inserts until commit, and waits for its readers
-- first: after lock_timeout it fails (SQLSTATE 55P03) and the next pass tries again, days
-- before the partition is needed.
CREATE OR REPLACE FUNCTION gateway.ensure_telemetry_partitions(
    p_parent regclass, p_from timestamptz, p_to timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '2s'
AS $$
DECLARE
    v_table   text;
    v_day     date;
    v_last    date := (p_to AT TIME ZONE 'UTC')::date;
    v_name    text;
    v_created integer := 0;
BEGIN
    IF p_parent NOT IN ('gateway.telemetry'::regclass, 'gateway.server_telemetry'::regclass) THEN
        RAISE EXCEPTION 'not a telemetry table: %', p_parent
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- A guard against a timestamp from 1970 asking for twenty thousand tables.
    IF v_last - (p_from AT TIME ZONE 'UTC')::date > 1000 THEN
        RAISE EXCEPTION 'more than 1000 days of partitions asked for: % to %', p_from, p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Two instances (or a migration and a daemon) never race to create the same partition.
    PERFORM pg_advisory_xact_lock(hashtextextended('slicegate.telemetry_partitions', 0));
    SELECT relname INTO v_table FROM pg_class WHERE oid = p_parent;
    v_day := (p_from AT TIME ZONE 'UTC')::date;
    WHILE v_day <= v_last LOOP
        v_name := v_table || '_p' || to_char(v_day, 'YYYYMMDD');
        IF to_regclass(format('gateway.%I', v_name)) IS NULL THEN
            EXECUTE format('CREATE TABLE gateway.%I PARTITION OF gateway.%I '
                           'FOR VALUES FROM (%L) TO (%L)',
                           v_name, v_table,
                           to_char(v_day, 'YYYY-MM-DD') || ' 00:00:00+00',
                           to_char(v_day + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
            v_created := v_created + 1;
        END IF;
        v_day := v_day + 1;
    END LOOP;
    RETURN v_created;
END
$$;

-- Drops the day partitions of p_parent whose whole day lies before p_cutoff; returns how many
-- it dropped and how many it left because a reader held them (DROP waits for the table's
-- readers, and inserts would queue behind the waiting DROP: after lock_timeout it gives up on
-- that partition until the next pass). Only partitions named by ensure_telemetry_partitions
-- are candidates: the day is read from the name.
CREATE OR REPLACE FUNCTION gateway.drop_telemetry_partitions_before(
    p_parent regclass, p_cutoff timestamptz, OUT dropped integer, OUT busy integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '2s'
AS $$
DECLARE
    v_table text;
    v_child text;
BEGIN
    IF p_parent NOT IN ('gateway.telemetry'::regclass, 'gateway.server_telemetry'::regclass) THEN
        RAISE EXCEPTION 'not a telemetry table: %', p_parent
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    dropped := 0;
    busy := 0;
    PERFORM pg_advisory_xact_lock(hashtextextended('slicegate.telemetry_partitions', 0));
    SELECT relname INTO v_table FROM pg_class WHERE oid = p_parent;
    FOR v_child IN
        SELECT c.relname
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = p_parent
          AND c.relname ~ ('^' || v_table || '_p[0-9]{8}$')
          -- The partition's day ends at the next UTC midnight.
          AND ((to_date(right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC')
              <= p_cutoff
        ORDER BY c.relname
    LOOP
        BEGIN
            EXECUTE format('DROP TABLE gateway.%I', v_child);
            dropped := dropped + 1;
        EXCEPTION WHEN lock_not_available THEN
            busy := busy + 1;
        END;
    END LOOP;
END
$$;

-- gateway.telemetry: rename the heap out of the way, create the partitioned table under the
-- seed's name, copy the rows, then the keys and indexes (built once over the copied rows
-- rather than updated row by row), and hand the sequence over.
DO $$
DECLARE
    v_ts timestamptz;
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = 'gateway.telemetry'::regclass) = 'p' THEN
        RETURN;
    END IF;
    ALTER TABLE gateway.telemetry RENAME TO telemetry_unpartitioned;
    -- The new table takes over the names of the keys and indexes, and the sequence, which
    -- would otherwise go with the old table.
    ALTER TABLE gateway.telemetry_unpartitioned DROP CONSTRAINT telemetry_pkey;
    ALTER TABLE gateway.telemetry_unpartitioned DROP CONSTRAINT telemetry_slice_id_fkey;
    DROP INDEX IF EXISTS gateway.idx_telemetry_slice_time;
    ALTER INDEX IF EXISTS gateway.idx_telemetry_time RENAME TO idx_telemetry_time_unpartitioned;
    ALTER SEQUENCE gateway.telemetry_id_seq OWNED BY NONE;

    CREATE TABLE gateway.telemetry (
        id          BIGINT      NOT NULL DEFAULT nextval('gateway.telemetry_id_seq'::regclass),
        slice_id    INTEGER     NOT NULL,
        "timestamp" TIMESTAMPTZ NOT NULL DEFAULT now(),
        rss_bytes   BIGINT,                                 -- container memory as docker stats shows it
        wa_state    TEXT,                                   -- WhatsApp connection state
        cpu_percent NUMERIC,                                -- container CPU %
        disk_bytes  BIGINT                                  -- slice disk usage
    ) PARTITION BY RANGE ("timestamp");

    -- A partition for every day that has rows, found through idx_telemetry_time one day at a
    -- time rather than by reading every row.
    v_ts := (SELECT min("timestamp") FROM gateway.telemetry_unpartitioned);
    WHILE v_ts IS NOT NULL LOOP
        PERFORM gateway.ensure_telemetry_partitions('gateway.telemetry', v_ts, v_ts);
        v_ts := (SELECT min("timestamp") FROM gateway.telemetry_unpartitioned
                 WHERE "timestamp" >= (((v_ts AT TIME ZONE 'UTC')::date + 1)::timestamp
                                       AT TIME ZONE 'UTC'));
    END LOOP;

    INSERT INTO gateway.telemetry (id, slice_id, "timestamp", rss_bytes, wa_state, cpu_percent,
                                   disk_bytes)
    SELECT id, slice_id, "timestamp", rss_bytes, wa_state, cpu_percent, disk_bytes
    FROM gateway.telemetry_unpartitioned;

    ALTER TABLE gateway.telemetry ADD CONSTRAINT telemetry_pkey PRIMARY KEY (id, "timestamp");
    CREATE INDEX idx_telemetry_slice_time ON gateway.telemetry (slice_id, "timestamp" DESC);
    -- The retention's batched DELETE of the boundary day walks it.
    CREATE INDEX idx_telemetry_time ON gateway.telemetry ("timestamp");
    ALTER TABLE gateway.telemetry ADD CONSTRAINT telemetry_slice_id_fkey
        FOREIGN KEY (slice_id) REFERENCES gateway.slices (id) ON DELETE CASCADE;

    DROP TABLE gateway.telemetry_unpartitioned;
    ALTER SEQUENCE gateway.telemetry_id_seq OWNED BY gateway.telemetry.id;
END
$$;

-- gateway.server_telemetry, the same way.
DO $$
DECLARE
    v_ts timestamptz;
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = 'gateway.server_telemetry'::regclass) = 'p' THEN
        RETURN;
    END IF;
    ALTER TABLE gateway.server_telemetry RENAME TO server_telemetry_unpartitioned;
    ALTER TABLE gateway.server_telemetry_unpartitioned DROP CONSTRAINT server_telemetry_pkey;
    DROP INDEX IF EXISTS gateway.idx_server_telemetry_time;
    ALTER SEQUENCE gateway.server_telemetry_id_seq OWNED BY NONE;

    CREATE TABLE gateway.server_telemetry (
        id               BIGINT      NOT NULL
                                     DEFAULT nextval('gateway.server_telemetry_id_seq'::regclass),
        "timestamp"      TIMESTAMPTZ NOT NULL DEFAULT now(),
        ram_used_bytes   BIGINT,
        ram_total_bytes  BIGINT,
        swap_used_bytes  BIGINT,
        swap_total_bytes BIGINT,
        cpu_percent      REAL,
        disk_used_bytes  BIGINT,
        disk_total_bytes BIGINT,
        active_slices    INTEGER,                           -- assigned slice count
        total_slices     INTEGER                            -- all slices
    ) PARTITION BY RANGE ("timestamp");

    v_ts := (SELECT min("timestamp") FROM gateway.server_telemetry_unpartitioned);
    WHILE v_ts IS NOT NULL LOOP
        PERFORM gateway.ensure_telemetry_partitions('gateway.server_telemetry', v_ts, v_ts);
        v_ts := (SELECT min("timestamp") FROM gateway.server_telemetry_unpartitioned
                 WHERE "timestamp" >= (((v_ts AT TIME ZONE 'UTC')::date + 1)::timestamp
                                       AT TIME ZONE 'UTC'));
    END LOOP;

    INSERT INTO gateway.server_telemetry (id, "timestamp", ram_used_bytes, ram_total_bytes,
                                          swap_used_bytes, swap_total_bytes, cpu_percent,
                                          disk_used_bytes, disk_total_bytes, active_slices,
                                          total_slices)
    SELECT id, "timestamp", ram_used_bytes, ram_total_bytes, swap_used_bytes, swap_total_bytes,
           cpu_percent, disk_used_bytes, disk_total_bytes, active_slices, total_slices
    FROM gateway.server_telemetry_unpartitioned;

    ALTER TABLE gateway.server_telemetry
        ADD CONSTRAINT server_telemetry_pkey PRIMARY KEY (id, "timestamp");
    CREATE INDEX idx_server_telemetry_time ON gateway.server_telemetry ("timestamp" DESC);

    DROP TABLE gateway.server_telemetry_unpartitioned;
    ALTER SEQUENCE gateway.server_telemetry_id_seq OWNED BY gateway.server_telemetry.id;
END
$$;

-- The default retention window (7 days) and the next three days; the retention actor keeps
-- the window moving, with the configured retention.
SELECT gateway.ensure_telemetry_partitions(t, now() - interval '7 days', now() + interval '3 days')
FROM unnest(ARRAY['gateway.telemetry', 'gateway.server_telemetry']::regclass[]) AS t;
