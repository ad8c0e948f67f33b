// Profitability of a month (docs/cost.md): provisional (computed now from the month's figures)
// until the SLA close freezes it, with the inputs behind it, in `cost_months` and
// `cost_customer_months` (schemas/postgres/110_cost_months.sql).
//
// Guarantees:
// - frozen once per month, at its close (a held month: at its release), in one transaction: the
//   month row and every customer row commit together or not at all; a second or concurrent close
//   writes nothing (ON CONFLICT on the month), and a trigger refuses UPDATE and DELETE;
// - the frozen figures come from the credit records (the variable cost, fee and credit in their
//   `inputs`), the config's fixed prices and policy, and the customers' settings at the close, so
//   telemetry that arrives late changes none of them;
// - revenue always uses the credit's net after its corrections (the ledger): a correction is an
//   admin's recorded decision, not late data;
// - the frozen month is then copied to ClickHouse for Grafana (cost-copy.ts); that copy failing
//   never undoes nor blocks the freeze (PostgreSQL is the record), and the refresh job catches up.
import { transaction } from '../db/postgres.ts'
import type { SlaContext } from './context.ts'
import { copyFrozenMonth } from './cost-copy.ts'
import {
  allocationInputs,
  frozenProfits,
  inputOf,
  inService,
  monthsBefore,
  type Profit,
  percents,
  provisionalMonth,
} from './cost-figures.ts'
import { canonicalJson, inputsHash, listCredits } from './credits.ts'
import { firstDay, type Month } from './months.ts'
import { type AllocationInputs, allocate } from './profit.ts'
import type { CostReport, CustomerProfit } from './schemas/costs.ts'
import type { UptimeFigures } from './schemas/figures.ts'

const SQL = {
  insertMonth: `
    INSERT INTO cost_months (month, currency, policy, basis, fixed_cents, unallocated_cents, inputs, inputs_sha256, computed_at)
    VALUES ($1::date, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (month) DO NOTHING RETURNING month`,
  insertCustomer: `
    INSERT INTO cost_customer_months (month, customer_id, credit_id, minutes_in_service, fixed_percent, fixed_cents,
      infrastructure_cents, ai_cents, fee_cents, credit_cents, plan_currency)
    VALUES ($1::date, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
  month: `
    SELECT currency, policy, basis, fixed_cents, unallocated_cents, inputs, inputs_sha256, computed_at, frozen_at
    FROM cost_months WHERE month = $1::date`,
}

/**
 * Freezes the month's profitability from its credit records (the close, after issuing them);
 * `factory` is the month's overall uptime. True when this call froze it. Then the frozen month is
 * copied to ClickHouse (also when an earlier run froze it: a re-write replaces the copy).
 */
export async function freezeCosts(
  ctx: SlaContext,
  month: Month,
  factory: Pick<UptimeFigures, 'minutes' | 'notInServiceMinutes'>,
  now = new Date(),
): Promise<boolean> {
  const [records, settings] = await Promise.all([listCredits(ctx.pool, month), percents(ctx, month)])
  const customers = records.map((r) =>
    inputOf(r.inputs, settings.get(r.customerId) ?? null, { id: r.id, cents: r.creditCents }),
  )
  const inputs = allocationInputs(ctx, month, inService(factory), customers)
  const a = allocate(inputs)
  const froze = await transaction(ctx.pool, async (db) => {
    const { rows } = await db.query(SQL.insertMonth, [
      firstDay(month),
      inputs.currency,
      inputs.policy,
      a.basis,
      inputs.fixed.totalCents,
      a.unallocatedCents,
      canonicalJson(inputs),
      inputsHash(inputs),
      now.toISOString(),
    ])
    if (!rows.length) return false
    for (const c of customers) {
      await db.query(SQL.insertCustomer, [
        firstDay(month),
        c.customerId,
        c.creditId,
        c.minutesInService,
        c.fixedCostPercent,
        a.shares.get(c.customerId) ?? 0,
        c.infrastructureCents,
        c.aiCents,
        c.feeCents,
        c.creditCents,
        c.planCurrency,
      ])
    }
    return true
  })
  await copyFrozenMonth(ctx, month)
  return froze
}

const sum = (items: Profit[], k: 'fixedCents' | 'infrastructureCents' | 'aiCents' | 'costCents') =>
  items.reduce((a, i) => a + i[k], 0)

/** The month's profitability: frozen when its close froze it, else provisional (computed now). */
export async function buildCostReport(ctx: SlaContext, month: Month, now = new Date()): Promise<CostReport> {
  const frozen = (
    await ctx.pool.query<{
      currency: string
      policy: CostReport['policy']
      basis: CostReport['basis']
      fixed_cents: string
      unallocated_cents: string
      inputs: AllocationInputs
      inputs_sha256: string
      computed_at: Date
      frozen_at: Date
    }>(SQL.month, [firstDay(month)])
  ).rows[0]
  const history = await frozenProfits(ctx, monthsBefore(month, 11), month)
  let head: Omit<CostReport, 'customers' | 'totals'>
  let items: Profit[]
  if (frozen) {
    items = history.filter((h) => h.month === month.key).map(({ month: _, ...p }) => p)
    head = {
      month: month.key,
      status: 'frozen',
      period: 'complete',
      computedAt: frozen.computed_at.toISOString(),
      frozenAt: frozen.frozen_at.toISOString(),
      currency: frozen.currency,
      policy: frozen.policy,
      basis: frozen.basis,
      fixed: { totalCents: Number(frozen.fixed_cents), components: frozen.inputs.fixed.components },
      unallocatedCents: Number(frozen.unallocated_cents),
      inputsSha256: frozen.inputs_sha256,
    }
  } else {
    const { inputs, allocation: a, items: computed } = await provisionalMonth(ctx, month, now)
    items = computed
    head = {
      month: month.key,
      status: 'provisional',
      period: now < month.end ? 'month-to-date' : 'complete',
      computedAt: now.toISOString(),
      frozenAt: null,
      currency: inputs.currency,
      policy: inputs.policy,
      basis: a.basis,
      fixed: { totalCents: inputs.fixed.totalCents, components: inputs.fixed.components },
      unallocatedCents: a.unallocatedCents,
      inputsSha256: null,
    }
  }
  const customers = items
    .sort((a, b) => a.customerId.localeCompare(b.customerId))
    .map(
      (p): CustomerProfit => ({
        ...p,
        trend: [
          ...history.filter((h) => h.customerId === p.customerId && h.month < month.key),
          { ...p, month: month.key },
        ].map((h) => ({
          month: h.month,
          status: h.month === month.key ? head.status : 'frozen',
          revenueCents: h.revenueCents,
          costCents: h.costCents,
          margin: h.margin,
        })),
      }),
    )
  return {
    ...head,
    totals: {
      fixedCents: sum(items, 'fixedCents'),
      infrastructureCents: sum(items, 'infrastructureCents'),
      aiCents: sum(items, 'aiCents'),
      costCents: sum(items, 'costCents'),
    },
    customers,
  }
}
