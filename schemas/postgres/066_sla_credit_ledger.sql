-- Corrections of closed SLA credits as a ledger (docs/sla.md, "How each figure is computed —
-- corrections"): a closed record never changes; a void, a reissue or a goodwill credit is a new
-- immutable row with its reason and actor, and the net credit is the record plus its adjustments.

-- One row per correction of a credit, numbered per credit (seq 1, 2, ...). amount_cents is the
-- change to the credited amount (a void: minus the net before it; a reissue or goodwill: plus the
-- amount); net_cents and status are the credit's net and state after this row.
CREATE TABLE sla_credit_adjustments (
  id           bigserial PRIMARY KEY,
  credit_id    bigint NOT NULL REFERENCES sla_credits (id),
  seq          integer NOT NULL CHECK (seq >= 1),
  customer_id  text NOT NULL REFERENCES customers (id),
  kind         text NOT NULL CHECK (kind IN ('void', 'reissue', 'goodwill')),
  amount_cents bigint NOT NULL,
  net_cents    bigint NOT NULL CHECK (net_cents >= 0),
  status       text NOT NULL CHECK (status IN ('active', 'void')),
  reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  actor        text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (credit_id, seq),
  CHECK (
    (kind = 'void' AND amount_cents <= 0 AND net_cents = 0 AND status = 'void')
    OR (kind = 'reissue' AND amount_cents >= 0 AND status = 'active')
    OR (kind = 'goodwill' AND amount_cents > 0 AND status = 'active')
  )
);
CREATE INDEX sla_credit_adjustments_customer ON sla_credit_adjustments (customer_id, created_at);

CREATE FUNCTION sla_ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are immutable (% of row %)', TG_TABLE_NAME, TG_OP, OLD.id;
END $$;
CREATE TRIGGER sla_credit_adjustments_immutable BEFORE UPDATE OR DELETE ON sla_credit_adjustments
  FOR EACH ROW EXECUTE FUNCTION sla_ledger_immutable();

-- Billing adjustments: one row for the credit itself (kind 'credit', negative), then one per
-- correction that moves money (void: positive, the credit taken back; reissue, goodwill:
-- negative). Immutable like the credits.
ALTER TABLE sla_billing_adjustments DROP CONSTRAINT sla_billing_adjustments_credit_id_key;
ALTER TABLE sla_billing_adjustments DROP CONSTRAINT sla_billing_adjustments_amount_cents_check;
ALTER TABLE sla_billing_adjustments
  ADD COLUMN kind text NOT NULL DEFAULT 'credit' CHECK (kind IN ('credit', 'void', 'reissue', 'goodwill')),
  ADD COLUMN adjustment_id bigint UNIQUE REFERENCES sla_credit_adjustments (id);
ALTER TABLE sla_billing_adjustments ALTER COLUMN kind DROP DEFAULT;
ALTER TABLE sla_billing_adjustments
  ADD CONSTRAINT sla_billing_adjustments_sign CHECK (
    CASE WHEN kind = 'void' THEN amount_cents > 0 ELSE amount_cents < 0 END),
  ADD CONSTRAINT sla_billing_adjustments_source CHECK ((kind = 'credit') = (adjustment_id IS NULL));
CREATE UNIQUE INDEX sla_billing_adjustments_one_per_credit ON sla_billing_adjustments (credit_id)
  WHERE kind = 'credit';
CREATE TRIGGER sla_billing_adjustments_immutable BEFORE UPDATE OR DELETE ON sla_billing_adjustments
  FOR EACH ROW EXECUTE FUNCTION sla_ledger_immutable();

-- The late-data check (sla.late-data-check): a closed month whose recompute would change its
-- material figures or credit. One row per credit and distinct change (changes_sha256), so the same
-- drift is reported to operators once; an open row (resolved_at null) is an operator incident
-- until the credit is adjusted, or the recompute matches the record again, or a newer drift
-- supersedes it.
CREATE TABLE sla_late_data (
  id                bigserial PRIMARY KEY,
  credit_id         bigint NOT NULL REFERENCES sla_credits (id),
  customer_id       text NOT NULL REFERENCES customers (id),
  month             date NOT NULL,
  issued_cents      bigint NOT NULL,
  recomputed_cents  bigint NOT NULL,
  changes           jsonb NOT NULL,
  changes_sha256    text NOT NULL,
  found_at          timestamptz NOT NULL DEFAULT now(),
  resolved_at       timestamptz,
  resolution        text,
  UNIQUE (credit_id, changes_sha256)
);
CREATE INDEX sla_late_data_open ON sla_late_data (month) WHERE resolved_at IS NULL;
