// What an incident transition causes besides its own row: whom it affects, the telemetry it emits
// (incident and recovery events) and the notices it queues for customers. All run in the
// transition's transaction.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import type { Queryable } from '../db/postgres.ts'
import type { NewEvent } from '../ingest/index.ts'
import { queueCustomerNotification } from '../notify/index.ts'
import type { CustomerDirectory } from '../tenants/index.ts'
import { currentEstimate, type RecoveryPolicy, recoveryKindOf } from './estimates.ts'
import { customerFacing } from './rules.ts'
import type { Incident, IncidentNotice } from './schemas.ts'
import { poolCustomers } from './telemetry.ts'

export interface LifecycleContext {
  clickhouse?: ClickHouseClient
  /** The registered customers (the tenants module's). */
  tenants: CustomerDirectory
  /** Paging on (a routing key is configured)? */
  paging: boolean
  source: string
  links(incidentId: string): { href: string; text: string }[]
  /** Recovery kinds of the rules and their RTO targets (recovery events, estimates). */
  recovery: RecoveryPolicy
}

/** Customers an incident on `scope` affects (`db`: the caller's transaction). */
export async function affectedCustomers(
  db: Queryable,
  ctx: Pick<LifecycleContext, 'clickhouse' | 'tenants'>,
  scope: string,
  at: Date,
): Promise<string[]> {
  if (scope.startsWith('customer:')) return [scope.slice('customer:'.length)].filter(Boolean)
  // An SLA month to decide on (held, or changed by late data) is the operator's task: no customer
  // is affected by it yet.
  if (scope.startsWith('sla:')) return []
  if (scope.startsWith('pool:') && ctx.clickhouse)
    return poolCustomers(ctx.clickhouse, scope.slice('pool:'.length), at)
  // The factory itself (uptime, probes, telemetry): every customer.
  return (await ctx.tenants.customers(undefined, db)).map((c) => c.id)
}

/** Of `ids`, those registered here, in id order (`db`: the caller's transaction). */
async function registered(db: Queryable, tenants: CustomerDirectory, ids: string[]): Promise<string[]> {
  if (!ids.length) return []
  const wanted = new Set(ids)
  // One customer (most incidents) is read alone; more are read in one list.
  const found =
    ids.length === 1 ? await tenants.customers(ids[0], db) : await tenants.customers(undefined, db)
  return found.filter((c) => wanted.has(c.id)).map((c) => c.id)
}

/** Incident telemetry: one event per affected customer (or one for the factory when none). */
export function incidentEvents(
  i: Incident,
  action: 'triggered' | 'acknowledged' | 'escalated' | 'resolved',
  at: Date,
  seq = '',
): NewEvent[] {
  const customers = i.customerIds.length ? i.customerIds : ['']
  return customers.map((customerId) => ({
    eventId: `${i.id}:${action}${seq}:${customerId || '-'}`,
    ts: at.toISOString(),
    type: 'incident',
    customerId,
    action,
    incidentId: i.id,
    rule: i.rule,
    severity: i.severity,
  }))
}

/** Queues a notice for each affected customer (customer-facing rules only); returns how many. */
export async function notifyCustomers(
  db: Queryable,
  i: Incident,
  kind: string,
  key: string,
  message: string,
  at: Date,
  ctx: LifecycleContext,
): Promise<number> {
  if (!customerFacing.has(i.rule)) return 0
  const estimate = currentEstimate(i, ctx.recovery)
  const payload: IncidentNotice = {
    incidentId: i.id,
    status: i.status,
    severity: i.severity,
    summary: i.summary,
    message,
    openedAt: i.openedAt,
    resolvedAt: i.resolvedAt,
    estimatedRecoveryAt: estimate.at.toISOString(),
    estimateSource: estimate.source,
    at: at.toISOString(),
    links: Object.fromEntries(ctx.links(i.id).map((l) => [l.text, l.href])),
  }
  let queued = 0
  // Telemetry may name customers not registered here: they have nowhere to be notified.
  for (const customerId of await registered(db, ctx.tenants, i.customerIds)) {
    const ok = await queueCustomerNotification(db, {
      customerId,
      kind,
      dedupKey: `incident:${i.id}:${key}`,
      payload,
    })
    if (ok) queued++
  }
  return queued
}

/** On resolve: the recovery (RTO) events — one for the factory, or one per affected customer. */
export function recoveryEvents(i: Incident, at: Date, ctx: LifecycleContext): NewEvent[] {
  return (i.scope === '' ? [''] : i.customerIds.length ? i.customerIds : ['']).map((customerId) => ({
    eventId: `${i.id}:recovery:${customerId || '-'}`,
    ts: at.toISOString(),
    type: 'recovery',
    customerId,
    recoveryKind: recoveryKindOf(i, ctx.recovery),
    detectedAt: i.openedAt,
    recoveredAt: at.toISOString(),
  }))
}
