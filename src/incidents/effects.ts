// What an incident transition causes besides its own row: whom it affects, the telemetry it emits
// (incident and recovery events) and the notices it queues for customers. All run in the
// transition's transaction.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { Queryable } from '../db/postgres.ts'
import type { NewEvent } from '../ingest/index.ts'
import { queueCustomerNotification } from '../notify/index.ts'
import { currentEstimate, type RecoveryPolicy, recoveryKindOf } from './estimates.ts'
import { customerFacing } from './rules.ts'
import type { IncidentRow } from './store.ts'

export interface LifecycleContext {
  clickhouse?: ClickHouseClient
  /** Paging on (a routing key is configured)? */
  paging: boolean
  source: string
  links(incidentId: string): { href: string; text: string }[]
  /** Recovery kinds of the rules and their RTO targets (recovery events, estimates). */
  recovery: RecoveryPolicy
}

/** Customers an incident on `scope` affects. */
export async function affectedCustomers(
  db: Queryable,
  clickhouse: ClickHouseClient | undefined,
  scope: string,
  at: Date,
): Promise<string[]> {
  if (scope.startsWith('customer:')) return [scope.slice('customer:'.length)].filter(Boolean)
  // A held SLA month is the operator's to resolve: no customer is affected by it yet.
  if (scope.startsWith('sla:')) return []
  if (scope.startsWith('pool:') && clickhouse) {
    // Customers whose jobs ran in that pool over the last day.
    const rows = await chQuery<{ customer_id: string }>(
      clickhouse,
      `SELECT DISTINCT customer_id FROM jobs_1h
       WHERE pool = {pool:String} AND customer_id != '' AND hour >= toStartOfHour({at:DateTime('UTC')}) - INTERVAL 1 DAY
       ORDER BY customer_id`,
      { pool: scope.slice('pool:'.length), at: Math.floor(at.getTime() / 1000) },
    )
    return rows.map((r) => r.customer_id)
  }
  // The factory itself (uptime, probes, telemetry): every customer.
  const { rows } = await db.query<{ id: string }>('SELECT id FROM customers ORDER BY id')
  return rows.map((r) => r.id)
}

/** Incident telemetry: one event per affected customer (or one for the factory when none). */
export function incidentEvents(
  row: IncidentRow,
  action: 'triggered' | 'acknowledged' | 'escalated' | 'resolved',
  at: Date,
  seq = '',
): NewEvent[] {
  const customers = row.customer_ids.length ? row.customer_ids : ['']
  return customers.map((customerId) => ({
    eventId: `${row.id}:${action}${seq}:${customerId || '-'}`,
    ts: at.toISOString(),
    type: 'incident',
    customerId,
    action,
    incidentId: row.id,
    rule: row.rule,
    severity: row.severity,
  }))
}

export async function notifyCustomers(
  db: Queryable,
  row: IncidentRow,
  kind: string,
  key: string,
  message: string,
  at: Date,
  ctx: LifecycleContext,
): Promise<number> {
  if (!customerFacing.has(row.rule)) return 0
  const estimate = currentEstimate(row, ctx.recovery)
  // Telemetry may name customers not registered here: they have nowhere to be notified.
  const { rows: known } = await db.query<{ id: string }>(
    'SELECT id FROM customers WHERE id = ANY ($1::text[]) ORDER BY id',
    [row.customer_ids],
  )
  let queued = 0
  for (const { id: customerId } of known) {
    const ok = await queueCustomerNotification(db, {
      customerId,
      kind,
      dedupKey: `incident:${row.id}:${key}`,
      payload: {
        incidentId: row.id,
        status: row.status,
        severity: row.severity,
        summary: row.summary,
        message,
        openedAt: row.opened_at.toISOString(),
        resolvedAt: row.resolved_at?.toISOString() ?? null,
        estimatedRecoveryAt: estimate.at.toISOString(),
        estimateSource: estimate.source,
        at: at.toISOString(),
        links: Object.fromEntries(ctx.links(row.id).map((l) => [l.text, l.href])),
      },
    })
    if (ok) queued++
  }
  return queued
}

/** On resolve: the recovery (RTO) events — one for the factory, or one per affected customer. */
export function recoveryEvents(row: IncidentRow, at: Date, ctx: LifecycleContext): NewEvent[] {
  return (row.scope === '' ? [''] : row.customer_ids.length ? row.customer_ids : ['']).map((customerId) => ({
    eventId: `${row.id}:recovery:${customerId || '-'}`,
    ts: at.toISOString(),
    type: 'recovery',
    customerId,
    recoveryKind: recoveryKindOf(row, ctx.recovery),
    detectedAt: row.opened_at.toISOString(),
    recoveredAt: at.toISOString(),
  }))
}
