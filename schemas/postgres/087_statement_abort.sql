-- steward_abort(reason) ends the statement that calls it with SQLSTATE 'SW001' (rolling it back).
-- A statement that is its own transaction calls it when it finds, once it holds its rows' locks,
-- that the change needs work it cannot do itself; its caller then does the change in a transaction
-- (succeed.ts: a batch of successes whose run has a failed job to settle).
CREATE OR REPLACE FUNCTION steward_abort(reason text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'SW001', MESSAGE = reason;
END
$$;
