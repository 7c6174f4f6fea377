-- An application that follows segue's routing: account updates go to the
-- side the routing row names, and a write the old side's guard rejects
-- (mid-cutover) is retried after reading the routing again.
CREATE OR REPLACE FUNCTION app_account_update(p_aid int, p_delta int, p_migration text)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  side text;
  bal int;
BEGIN
  FOR attempt IN 1..5 LOOP
    SELECT write_side INTO side FROM segue.routing WHERE migration = p_migration;
    BEGIN
      IF coalesce(side, 'target') = 'target' THEN
        UPDATE accounts_v2 SET abalance = abalance + p_delta,
               balance_cents = (abalance + p_delta) * 100
         WHERE aid = p_aid RETURNING abalance INTO bal;
      ELSE
        UPDATE pgbench_accounts SET abalance = abalance + p_delta
         WHERE aid = p_aid RETURNING abalance INTO bal;
      END IF;
      RETURN bal;
    EXCEPTION WHEN raise_exception THEN
      PERFORM pg_sleep(0.001 * attempt);
    END;
  END LOOP;
  RAISE EXCEPTION 'no side took the write to account %', p_aid;
END $$;
