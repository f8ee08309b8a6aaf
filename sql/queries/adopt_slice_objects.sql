-- direct: a DO block takes no bind parameters; this one reads all it needs from the catalog.
-- Run by slicegate's role while connected to a slice database wa_slice_<id>: gives everything
-- in it that belongs to slicegate's role (a copy of the template) or to wa_slice (an older
-- version's owner) to the slice's own role, which has the database's name. Tables take their
-- indexes, triggers and owned sequences with them.
DO $adopt$
DECLARE
    target name := pg_catalog.current_database();
    owners oid[] := ARRAY(SELECT oid FROM pg_catalog.pg_roles
                          WHERE rolname IN (current_user, 'wa_slice'));
    obj record;
BEGIN
    IF target !~ '^wa_slice_[0-9]{1,9}$' THEN
        RAISE EXCEPTION 'not a slice database: %', target USING ERRCODE = '22023';
    END IF;
    FOR obj IN
        SELECT n.nspname FROM pg_catalog.pg_namespace n
        WHERE n.nspowner = ANY (owners) AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
    LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO %I', obj.nspname, target);
    END LOOP;
    FOR obj IN
        SELECT c.oid::regclass AS rel FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relowner = ANY (owners) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO %I', obj.rel, target);
    END LOOP;
    FOR obj IN
        SELECT c.oid::regclass AS rel FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relowner = ANY (owners) AND c.relkind = 'S'
          AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', obj.rel, target);
    END LOOP;
    FOR obj IN
        SELECT p.oid::regprocedure AS routine FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proowner = ANY (owners) AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', obj.routine, target);
    END LOOP;
    FOR obj IN
        SELECT t.oid::regtype AS type FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typowner = ANY (owners) AND t.typtype IN ('e', 'd', 'r')
          AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO %I', obj.type, target);
    END LOOP;
END
$adopt$
