-- Recovery estimates: when an open incident is expected to be resolved. Set when it opens (the RTO
-- target of the recovery kind its rule maps to) and replaced by an operator's update that gives
-- one. Every estimate is also on the timeline (kind 'estimate'), so the report compares the
-- first estimate, each revision and the actual recovery.
ALTER TABLE incidents
  ADD COLUMN recovery_kind         text,
  ADD COLUMN estimated_recovery_at timestamptz,
  -- 'rto_target' (from config) or 'operator' (given with an update).
  ADD COLUMN estimate_source       text CHECK (estimate_source IN ('rto_target', 'operator'));
