// Admission of OTLP items (spans, log records, data points), one at a time, the rules of
// POST /v1/events (admission.ts; docs/telemetry.md, "Who may say what", "Bounds at the door"), with
// OTLP's answer: an item that breaks one is refused alone and counted in `partialSuccess`, the rest
// are stored.
//
// Guarantees:
// - an item is the telemetry of the token's customer (a customer token), or of the customer its
//   resource names (`steward.customer_id`, the admin token; none: the factory's, or the customer of
//   the run it links to); a resource naming another customer, or a span naming (by attribute or
//   trace id) a run or job that is not its customer's, is refused;
// - every string and key of what is stored obeys the text rule (src/http/text.ts);
// - times are bounded as for events (TimeBounds); the operator's history against the contract start;
// - a stored row is at most `maxEventBytes` characters; a larger span is refused, but the usage
//   event of a GenAI span is small and still counts (the tokens were spent);
// - the usage event of a span links to the run and job the span belongs to, with the run's project,
//   type and the job's pool, so its cost lands where the work was done.
import type { Principal } from '../../http/auth.ts'
import { badTextFields } from '../../http/text.ts'
import { type AdmissionLimits, type ContractStarts, HISTORY, TimeBounds } from '../admission.ts'
import { TelemetryEvent } from '../events.ts'
import { eventItem, type OutboxItem } from '../outbox.ts'
import { attemptSpanId } from '../trace-context.ts'
import type { Draft } from './drafts.ts'

/** A Steward run, with its jobs, as the orchestrator knows it. */
export interface RunLink {
  runId: string
  customerId: string
  projectId: string
  runType: string
  jobs: { jobId: string; pool: string; attempts: number }[]
}

/** The runs named by id and the runs of the jobs named by id, each with all its jobs. */
export type RunLinks = (q: { runIds: string[]; jobIds: string[] }) => Promise<RunLink[]>

/** Most refusals named in `partialSuccess.errorMessage` (the count covers all). */
const LISTED = 5

export interface OtlpLimits extends Omit<AdmissionLimits, 'maxEventsPerRequest'> {
  maxEventBytes: number
}

export interface OtlpVerdict {
  /** The outbox rows of the accepted items (a GenAI span: its row and its usage event). */
  items: OutboxItem[]
  /** Items (spans, log records, data points) accepted, and refused. */
  accepted: number
  rejected: number
  /** Why items were refused (empty when none were). */
  message: string
}

export class OtlpAdmission {
  private readonly bounds: TimeBounds
  private readonly refusals: string[] = []
  private rejected = 0

  constructor(
    principal: Principal,
    private readonly limits: OtlpLimits,
    private readonly drafts: Draft[],
    now = Date.now(),
  ) {
    this.bounds = new TimeBounds(principal, limits, now)
  }

  private refuse(d: Draft, why: string) {
    if (d.problem !== undefined) return
    d.problem = why
  }

  /** Checks every item; looks up contract starts and runs once each. */
  async judge(contractStarts?: ContractStarts, runLinks?: RunLinks): Promise<OtlpVerdict> {
    const history: { d: Draft; field: string; at: number }[] = []
    for (const d of this.drafts) {
      if (d.problem) continue
      for (const [field, at] of d.times) {
        const v = this.bounds.check(at, d.customerId)
        if (v === HISTORY) history.push({ d, field, at })
        else if (v) this.refuse(d, `${field} ${v}`)
      }
      const text = badTextFields(d.row.body, [], 1)[0] ?? badTextFields(d.usage?.event, [], 1)[0]
      if (text) this.refuse(d, `${text.path} ${text.message}`)
    }
    await this.link(runLinks)
    if (history.length) {
      const judge = await this.bounds.historyJudge(
        history.map((h) => h.d.customerId),
        contractStarts,
      )
      for (const h of history) {
        const why = judge(h.d.customerId, h.at)
        if (why) this.refuse(h.d, `${h.field} ${why}`)
      }
    }
    return this.verdict()
  }

  /** Links spans to runs and jobs; refuses those naming another customer's. */
  private async link(runLinks: RunLinks | undefined) {
    const spans = this.drafts.filter((d) => !d.problem && d.link)
    const runIds = new Set<string>()
    const jobIds = new Set<string>()
    for (const d of spans) {
      const l = d.link!
      if (l.runId) runIds.add(l.runId)
      if (l.traceRunId) runIds.add(l.traceRunId)
      if (l.jobId) jobIds.add(l.jobId)
    }
    if (runIds.size === 0 && jobIds.size === 0) return
    const runs = new Map<string, RunLink>()
    const jobs = new Map<string, { run: RunLink; pool: string; attempts: number }>()
    for (const run of runLinks ? await runLinks({ runIds: [...runIds], jobIds: [...jobIds] }) : []) {
      runs.set(run.runId, run)
      for (const j of run.jobs) jobs.set(j.jobId, { run, pool: j.pool, attempts: j.attempts })
    }
    for (const d of spans) {
      const l = d.link!
      if ((l.runId || l.jobId) && !runLinks) {
        this.refuse(d, 'it names a Steward run or job, which this process cannot check')
        continue
      }
      const explicit = l.jobId ? jobs.get(l.jobId)?.run : l.runId ? runs.get(l.runId) : undefined
      if (l.jobId && (!explicit || (l.runId && explicit.runId !== l.runId))) {
        this.refuse(
          d,
          `steward.job_id ${JSON.stringify(l.jobId.slice(0, 64))} is not a job of ${l.runId ? `run ${l.runId}` : "this customer's runs"}`,
        )
        continue
      }
      if (l.runId && !explicit) {
        this.refuse(d, `steward.run_id ${JSON.stringify(l.runId.slice(0, 64))} is not a run of this customer`)
        continue
      }
      const run = explicit ?? (l.traceRunId ? runs.get(l.traceRunId) : undefined)
      if (!run) continue
      if (d.adoptsRunCustomer) d.customerId = run.customerId
      if (run.customerId !== d.customerId) {
        this.refuse(
          d,
          explicit
            ? `it names run ${run.runId}, which is not a run of ${d.customerId ? `customer ${d.customerId}` : 'the factory'}`
            : `its trace is run ${run.runId}'s, which is not a run of ${d.customerId ? `customer ${d.customerId}` : 'the factory'}`,
        )
        continue
      }
      const jobId = l.jobId ?? this.jobOf(run, l.stateJobId, l.parentSpanId)
      const job = jobId ? jobs.get(jobId) : undefined
      d.row.body.RunId = run.runId
      d.row.body.JobId = jobId ?? ''
      d.row.json = undefined
      if (d.usage) {
        d.usage.link = { runId: run.runId, jobId: jobId ?? '', runType: run.runType, pool: job?.pool ?? '' }
        d.usage.projectId = run.projectId
      }
    }
  }

  /** The job of `run` a span belongs to: named by its trace state, or whose attempt is its parent. */
  private jobOf(run: RunLink, stateJobId: string | undefined, parentSpanId: string): string | undefined {
    if (stateJobId && run.jobs.some((j) => j.jobId === stateJobId)) return stateJobId
    if (!parentSpanId) return undefined
    for (const j of run.jobs)
      for (let a = 1; a <= j.attempts; a++) if (attemptSpanId(j.jobId, a) === parentSpanId) return j.jobId
    return undefined
  }

  private verdict(): OtlpVerdict {
    const items: OutboxItem[] = []
    const refused = (d: Draft, why: string) => {
      this.rejected++
      if (this.refusals.length < LISTED) this.refusals.push(`${d.label}: ${why}`)
    }
    for (const d of this.drafts) {
      let usage: TelemetryEvent | undefined
      if (!d.problem && d.usage) {
        const r = TelemetryEvent.safeParse({
          ...d.usage.event,
          eventId: d.usage.id,
          customerId: d.customerId,
          projectId: d.usage.projectId,
          ...d.usage.link,
        })
        if (r.success) usage = r.data
        else
          d.problem = `its usage event is not valid: ${r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`
      }
      if (d.problem) {
        refused(d, d.problem)
        continue
      }
      const json = d.row.json ?? JSON.stringify(d.row.body)
      if (json.length <= this.limits.maxEventBytes)
        items.push({ target: d.row.table, customerId: d.customerId, eventId: d.row.id, body: json })
      else
        refused(
          d,
          `its row is larger than ${this.limits.maxEventBytes} characters${usage ? ' (its token usage is still counted)' : ''}`,
        )
      if (usage) items.push(eventItem(usage))
    }
    const more =
      this.rejected > this.refusals.length ? `; and ${this.rejected - this.refusals.length} more` : ''
    return {
      items,
      accepted: this.drafts.length - this.rejected,
      rejected: this.rejected,
      message: this.rejected ? `${this.rejected} refused: ${this.refusals.join('; ')}${more}` : '',
    }
  }
}
