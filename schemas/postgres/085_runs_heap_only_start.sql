-- A run's row changes when it starts and when it finishes. Its start (status, started_at) changes
-- no indexed column once no index reads `status`: PostgreSQL then writes it as a heap-only update,
-- with no new entry in any of the table's indexes, when the page has room (fillfactor 80 leaves
-- room on pages filled from now on).
-- The retention index (082) was partial on status; the same index on finished_at serves its
-- query (`status IN (...) AND finished_at < $1 ORDER BY finished_at`: `finished_at < $1` implies
-- the predicate).
DROP INDEX IF EXISTS runs_finished;
CREATE INDEX runs_finished ON runs (finished_at) WHERE finished_at IS NOT NULL;
ALTER TABLE runs SET (fillfactor = 80);
