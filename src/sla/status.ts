// A month's SLA status: each customer's figures against its plan, its DLQ size and its credit
// once closed; what GET /v1/sla/status answers and what the customer portal shows a customer.
// One function serves both, so the portal's figures are the API's.
import { z } from '@hono/zod-openapi'
import type { SlaContext } from './context.ts'
import { listCredits } from './credits.ts'
import { customerIds } from './customers.ts'
import { computeMonth } from './figures.ts'
import { getHold } from './holds.ts'
import { loadLedgers } from './ledger.ts'
import type { Month } from './months.ts'
import { CreditRecord } from './schemas/credits.ts'
import { CustomerMonth, MonthFigures } from './schemas/figures.ts'
import { MonthHold } from './schemas/holds.ts'

export const CustomerStatus = z
  .object({
    ...CustomerMonth.shape,
    /** The customer's jobs in the dead-letter queue now. */
    dlqSize: z.number().int(),
    /** The closed record of the month, null until the month is closed for the customer. */
    credit: CreditRecord.pick({ id: true, creditPercent: true, creditCents: true })
      .extend({
        closedAt: CreditRecord.shape.createdAt,
        /** creditCents with every correction (void, reissue, goodwill): what is credited. */
        netCreditCents: z.number().int(),
      })
      .nullable(),
  })
  .openapi('CustomerStatus')
export type CustomerStatus = z.infer<typeof CustomerStatus>

export const SlaStatus = z
  .object({
    month: MonthFigures.shape.month,
    period: MonthFigures.shape.period,
    computedAt: MonthFigures.shape.computedAt,
    /** The month's hold: the close waits for an admin while it is 'held' (null: never held). */
    hold: MonthHold.nullable(),
    /** Admin only: the factory as a whole. */
    overall: MonthFigures.shape.overall.optional(),
    /** Admin only: jobs in the dead-letter queue now, all customers. */
    dlqSize: z.number().int().optional(),
    customers: z.array(CustomerStatus),
  })
  .openapi('SlaStatus')
export type SlaStatus = z.infer<typeof SlaStatus>

/**
 * The month's status of the customer `scope` names (NotFoundError for an unknown one), or of every
 * customer when `scope` is undefined; `factory` adds the factory's figures (the admin's view).
 * `dlqSize` is the orchestrator's: jobs in its dead-letter queue now.
 */
export async function slaStatus(
  ctx: SlaContext,
  dlqSize: (customerId?: string) => Promise<number>,
  month: Month,
  scope: string | undefined,
  factory = false,
): Promise<SlaStatus> {
  const ids = await customerIds(ctx.tenants, scope)
  const figures = await computeMonth(ctx, month, ids)
  const closed = await listCredits(ctx.pool, month, scope)
  const ledgers = await loadLedgers(
    ctx.pool,
    closed.map((r) => r.id),
  )
  const customers = await Promise.all(
    figures.customers.map(async (m) => {
      const r = closed.find((x) => x.customerId === m.customerId)
      return {
        ...m,
        dlqSize: await dlqSize(m.customerId),
        credit: r
          ? {
              id: r.id,
              creditPercent: r.creditPercent,
              creditCents: r.creditCents,
              closedAt: r.createdAt,
              netCreditCents: ledgers.get(r.id)?.netCents ?? r.creditCents,
            }
          : null,
      }
    }),
  )
  return {
    month: figures.month,
    period: figures.period,
    computedAt: figures.computedAt,
    hold: await getHold(ctx.pool, month),
    ...(factory ? { overall: figures.overall, dlqSize: await dlqSize() } : {}),
    customers,
  }
}

/** The month's credit as the SLA engine stands on it now. */
export interface CreditSoFar {
  /**
   * closed: the month's immutable record; provisional: what the figures so far would earn if the
   * month ended now; insufficient_data: no minute of the month has been measured for the customer.
   */
  state: 'closed' | 'provisional' | 'insufficient_data'
  creditPercent: number
  creditCents: number
  feeCents: number
  currency: string
  tiers: CustomerMonth['evaluation']['tiers']
  /** When the record was written (closed only). */
  closedAt: string | null
}

/** The credit of a customer's status: its closed record, or the provisional one so far. */
export function creditSoFar(s: CustomerStatus): CreditSoFar {
  const e = s.evaluation
  const base = { feeCents: e.feeCents, currency: e.currency, tiers: e.tiers }
  if (s.credit)
    return {
      ...base,
      state: 'closed',
      creditPercent: s.credit.creditPercent,
      // What is credited: the record with its corrections (void, reissue, goodwill).
      creditCents: s.credit.netCreditCents,
      closedAt: s.credit.closedAt,
    }
  return {
    ...base,
    state: s.uptime.eligibleMinutes === 0 ? 'insufficient_data' : 'provisional',
    creditPercent: e.creditPercent,
    creditCents: e.creditCents,
    closedAt: null,
  }
}
