-- Two index entries fewer for every job, and none when its run finishes.
--
-- runs_finished (finished_at) made every run's finish a new row version with an entry in each of
-- the five indexes of runs. Retention, its only reader, now finds its candidates by created_at
-- (runs_created): a run finished before the cut-off was created before it too. Without it the
-- finish changes no indexed column, so it is heap-only when the page has room (fillfactor 80,
-- migration 085), as the start already is.
--
-- job_attempts had a surrogate key (bigserial) that nothing reads: each attempt wrote a sequence
-- value and two index entries. (job_id, attempt), already unique and what every reader and the
-- writers' ON CONFLICT use, is the primary key now.
DROP INDEX IF EXISTS runs_finished;
ALTER TABLE job_attempts DROP CONSTRAINT job_attempts_pkey,
  DROP CONSTRAINT job_attempts_job_id_attempt_key,
  ADD CONSTRAINT job_attempts_pkey PRIMARY KEY (job_id, attempt),
  DROP COLUMN id;
