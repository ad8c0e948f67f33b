-- Rollup tables keep a deduplication window of their own: a relay batch re-sent with the same
-- insert_deduplication_token (and deduplicate_blocks_in_dependent_materialized_views = 1) is then
-- dropped by every view's target too, not only by `events`. Checked on ClickHouse 26.7 (chDB):
-- without the window a target table takes the retried block again and double-counts it.
-- Consequence: every insert into `events` must carry a token (the relay always does); without
-- one, two identical aggregate blocks would be taken for a retry.
ALTER TABLE signals_1m MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE runs_1h MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE jobs_1h MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE usage_1h MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE api_1m MODIFY SETTING non_replicated_deduplication_window = 10000;
