-- Counters that let a finishing job settle its run in the same statement that records it (the
-- run row's lock serialises them): no count over the run's jobs on the hot path.
ALTER TABLE jobs ADD COLUMN has_dependents boolean NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN jobs_total integer NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN jobs_succeeded integer NOT NULL DEFAULT 0;
-- Jobs currently failed or dead-lettered (recomputed when an operator re-queues jobs).
ALTER TABLE runs ADD COLUMN jobs_failed integer NOT NULL DEFAULT 0;
