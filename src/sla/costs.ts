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
//   admin's recorded decision, not late data.
import { transaction } from '../db/postgres.ts'
import { fixedCostOfMonth } from '../pricing/index.ts'
import type { SlaContext } from './context.ts'
import { canonicalJson, inputsHash, listCredits } from './credits.ts'
import { customersOfMonth } from './customers.ts'
import { computeMonth } from './figures.ts'
import { loadLedgers } from './ledger.ts'
import { firstDay, type Month, parseMonth } from './months.ts'
import { type AllocationInputs, allocate, type ProfitInput, profitOf } from './profit.ts'
import type { CostReport, CustomerProfit } from './schemas/costs.ts'
import type { CustomerMonth, UptimeFigures } from './schemas/figures.ts'

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
  // Frozen customer-months of `months` (first days), with their month's currency.
  customers: `
    SELECT to_char(c.month, 'YYYY-MM') AS month, c.customer_id, c.credit_id, c.minutes_in_service,
           c.fixed_percent::float8 AS fixed_percent, c.fixed_cents, c.infrastructure_cents, c.ai_cents, c.fee_cents,
           c.credit_cents, c.plan_currency, m.currency
    FROM cost_customer_months c JOIN cost_months m USING (month)
    WHERE c.month >= $1::date AND c.month <= $2::date ORDER BY c.month, c.customer_id`,
}

/** Minutes (to date) in service: of the factory (`overall`), or of a customer since it began. */
const inService = (u: Pick<UptimeFigures, 'minutes' | 'notInServiceMinutes'>) =>
  u.minutes - u.notInServiceMinutes

/** A customer-month's contribution to the profitability, from its SLA figures. */
function inputOf(
  m: CustomerMonth,
  percent: number | null,
  credit: { id: number; cents: number } | null,
): ProfitInput {
  const c = m.cost
  // Figures priced before infrastructureCents was kept: their 6-decimal infrastructure, rounded.
  const infrastructureCents =
    c.infrastructureCents ?? Math.min(c.totalCents, Math.round(c.infrastructure * 100))
  return {
    customerId: m.customerId,
    minutesInService: inService(m.uptime),
    fixedCostPercent: percent,
    infrastructureCents,
    aiCents: c.totalCents - infrastructureCents,
    feeCents: m.evaluation.feeCents,
    creditCents: credit?.cents ?? m.evaluation.creditCents,
    planCurrency: m.evaluation.currency,
    creditId: credit?.id ?? null,
  }
}

async function percents(ctx: SlaContext, month: Month): Promise<Map<string, number | null>> {
  const existed = await customersOfMonth(ctx.tenants, month)
  return new Map(existed.map((c) => [c.id, c.settings.fixedCostPercent]))
}

function allocationInputs(
  ctx: SlaContext,
  month: Month,
  factoryMinutes: number,
  customers: ProfitInput[],
): AllocationInputs {
  return {
    month: month.key,
    currency: ctx.prices.currency,
    policy: ctx.prices.allocation,
    factoryMinutes,
    fixed: fixedCostOfMonth(ctx.prices, month.start, month.end),
    customers,
  }
}

/**
 * Freezes the month's profitability from its credit records (the close, after issuing them);
 * `factory` is the month's overall uptime. True when this call froze it.
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
  return transaction(ctx.pool, async (db) => {
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
}

interface FrozenRow {
  month: string
  customer_id: string
  credit_id: string | null
  minutes_in_service: number
  fixed_percent: number | null
  fixed_cents: string
  infrastructure_cents: string
  ai_cents: string
  fee_cents: string
  credit_cents: string
  plan_currency: string
  currency: string
}

type Profit = Omit<CustomerProfit, 'trend'>

/** Frozen customer-months from `from` to `to` (keys), each with its credit's corrections. */
async function frozenProfits(
  ctx: SlaContext,
  from: Month,
  to: Month,
): Promise<(Profit & { month: string })[]> {
  const { rows } = await ctx.pool.query<FrozenRow>(SQL.customers, [firstDay(from), firstDay(to)])
  const ledgers = await loadLedgers(
    ctx.pool,
    rows.filter((r) => r.credit_id !== null).map((r) => Number(r.credit_id)),
  )
  return rows.map((r) => {
    const creditId = r.credit_id === null ? null : Number(r.credit_id)
    const ledger = creditId === null ? undefined : ledgers.get(creditId)
    const creditCents = Number(r.credit_cents)
    const input: ProfitInput = {
      customerId: r.customer_id,
      minutesInService: r.minutes_in_service,
      fixedCostPercent: r.fixed_percent,
      infrastructureCents: Number(r.infrastructure_cents),
      aiCents: Number(r.ai_cents),
      feeCents: Number(r.fee_cents),
      creditCents,
      planCurrency: r.plan_currency,
      creditId,
    }
    const adjustment = ledger ? ledger.netCents - creditCents : 0
    return { month: r.month, ...profitOf(input, Number(r.fixed_cents), adjustment, r.currency) }
  })
}

const sum = (items: Profit[], k: 'fixedCents' | 'infrastructureCents' | 'aiCents' | 'costCents') =>
  items.reduce((a, i) => a + i[k], 0)

/** 11 months before `month` (the trend's first month, or the first month there is). */
function trendStart(month: Month): Month {
  const d = new Date(Date.UTC(month.start.getUTCFullYear(), month.start.getUTCMonth() - 11, 1))
  return d.getUTCFullYear() < 1970 ? parseMonth('1970-01') : parseMonth(d.toISOString().slice(0, 7))
}

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
  const history = await frozenProfits(ctx, trendStart(month), month)
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
    const settings = await percents(ctx, month)
    const ids = [...settings.keys()]
    const figures = ids.length && now >= month.start ? await computeMonth(ctx, month, ids, { now }) : null
    const customers = (figures?.customers ?? []).map((m) =>
      inputOf(m, settings.get(m.customerId) ?? null, null),
    )
    const inputs = allocationInputs(ctx, month, figures ? inService(figures.overall.uptime) : 0, customers)
    const a = allocate(inputs)
    items = customers.map((c) => profitOf(c, a.shares.get(c.customerId) ?? 0, 0, inputs.currency))
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
