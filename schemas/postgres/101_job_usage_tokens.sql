-- Token kinds a handler reports with ctx.reportUsage beyond input and output (docs/sla.md, "Cost"):
-- of the input, tokens read from and written to the prompt cache; of the output, reasoning. A
-- run's cost prices each kind at its own price. Rows from before read 0.
ALTER TABLE job_usage
  ADD COLUMN cache_read_tokens bigint NOT NULL DEFAULT 0,
  ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0,
  ADD COLUMN reasoning_tokens bigint NOT NULL DEFAULT 0;
