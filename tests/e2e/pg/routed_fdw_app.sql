-- The routed application of routed_app.sql when the new table lives in
-- another database: the source database reaches the target's accounts and
-- segue's routing row through postgres_fdw foreign tables (psql variables
-- port and db name the target). postgres_fdw reads the remote side at one
-- snapshot per transaction, so a write the old side's guard rejects cannot
-- see the new routing inside that transaction: the function raises a
-- serialization failure instead, and the client retries the whole
-- transaction (pgbench --max-tries), as applications do. The application
-- runs as the role named by psql variable app, with privileges on its own
-- tables only: on the target it reaches the table (which got the source
-- table's grants) and the routing row as itself.
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE SERVER target_db FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '127.0.0.1', port :'port', dbname :'db');
CREATE USER MAPPING FOR CURRENT_USER SERVER target_db OPTIONS (user 'postgres');
CREATE USER MAPPING FOR :"app" SERVER target_db
  OPTIONS (user :'app', password_required 'false');
CREATE SCHEMA remote;
IMPORT FOREIGN SCHEMA public LIMIT TO (pgbench_accounts) FROM SERVER target_db INTO remote;
IMPORT FOREIGN SCHEMA segue LIMIT TO (routing) FROM SERVER target_db INTO remote;
GRANT USAGE ON SCHEMA remote TO :"app";
GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA remote TO :"app";

CREATE OR REPLACE FUNCTION app_account_update(p_aid int, p_delta int, p_migration text)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  side text;
  bal int;
BEGIN
  SELECT write_side INTO side FROM remote.routing WHERE migration = p_migration;
  BEGIN
    IF coalesce(side, 'target') = 'target' THEN
      UPDATE remote.pgbench_accounts SET abalance = abalance + p_delta
       WHERE aid = p_aid RETURNING abalance INTO bal;
    ELSE
      UPDATE pgbench_accounts SET abalance = abalance + p_delta
       WHERE aid = p_aid RETURNING abalance INTO bal;
    END IF;
  EXCEPTION WHEN raise_exception THEN
    RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
      MESSAGE = 'the write side moved: ' || SQLERRM;
  END;
  RETURN bal;
END $$;
