// Who may say what, and when: the checks every event sent to POST /v1/events passes, one event at
// a time as the body streams in (docs/telemetry.md, "Who may say what"; docs/security.md).
//
// Guarantees:
// - every string and every key of every event obeys the shared text rule (src/http/text.ts: no
//   NUL, other control characters or lone surrogates), so no event can fail the group commit it
//   shares with other tenants; a breach is a 400 naming `index.field`;
// - a customer token may send only its own customer's evidence and usage (`CUSTOMER_EVENT_TYPES`);
//   a platform fact (run, job, worker, heartbeat, recovery, incident) is a 403 naming
//   `index.type`, another customer's event a 403 naming `index.customerId`;
// - no sender may use an id in Steward's namespace (`steward:`): a 400 naming `index.eventId`;
// - times (`ts`, and a recovery's `detectedAt`/`recoveredAt`) are bounded: not after now +
//   `maxFutureHours`; a customer token's not older than `customerMaxAgeHours`; the operator's
//   (admin token) back to the customer's contract start, or `factoryHistoryDays` for factory
//   events (customerId ''). A breach is a 400 naming `index.ts` (or the field);
// - a batch with any problem stores nothing; the first `MAX_LISTED_PROBLEMS` are listed, and the
//   body is not read past the event where that many were found.
import {
  type FieldProblem,
  ForbiddenError,
  PayloadTooLargeError,
  ValidationError,
  zodFields,
} from '../errors.ts'
import type { Principal } from '../http/auth.ts'
import { badTextFields } from '../http/text.ts'
import type { EventSink } from './body.ts'
import { eventSchemas, TelemetryEvent } from './events.ts'
import { type EventSource, STEWARD_ID_PREFIX } from './outbox.ts'

/** What a customer token may send: evidence it gathered and its own usage, never a platform fact. */
export const CUSTOMER_EVENT_TYPES = ['probe', 'usage', 'api_request'] as const

/** Most problems listed in one refusal; reading stops once this many were found. */
export const MAX_LISTED_PROBLEMS = 100

export interface AdmissionLimits {
  maxEventsPerRequest: number
  maxFutureHours: number
  customerMaxAgeHours: number
  factoryHistoryDays: number
}

/** The contract start (customer `createdAt`) of each registered customer among `ids`. */
export type ContractStarts = (ids: string[]) => Promise<Map<string, Date>>

const HOUR = 3_600_000
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const customerTypes = new Set<string>(CUSTOMER_EVENT_TYPES)
const knownTypes = new Set<string>(Object.keys(eventSchemas))
/** Leading index of a problem's path, for listing problems in body order ('(body)' first). */
const indexOf = (p: FieldProblem) => Number.parseInt(p.path, 10) || (p.path.startsWith('(') ? -1 : 0)

export const sourceOf = (p: Principal): EventSource => (p.kind === 'admin' ? 'operator' : 'customer')

/** Collects the admitted events of one request and every problem, as the body streams in. */
export class Admission implements EventSink {
  readonly events: TelemetryEvent[] = []
  private readonly problems: FieldProblem[] = []
  private readonly forbidden: FieldProblem[] = []
  /** The operator's events older than any customer may send: judged against the contract start. */
  private readonly history: { path: string; customerId: string; at: number }[] = []
  private tooMany = false
  private read = 0
  private readonly own: string | undefined

  constructor(
    principal: Principal,
    private readonly limits: AdmissionLimits,
    private readonly now = Date.now(),
  ) {
    this.own = principal.kind === 'customer' ? principal.customerId : undefined
  }

  /** Events read from the body so far (admitted or not). */
  get eventsRead(): number {
    return this.read
  }

  private get full(): boolean {
    return this.problems.length + this.forbidden.length >= MAX_LISTED_PROBLEMS
  }

  problem(p: FieldProblem): boolean {
    this.problems.push(p)
    return !this.full
  }

  event(value: unknown, index: number): boolean {
    if (index >= this.limits.maxEventsPerRequest) {
      this.tooMany = true
      return false
    }
    this.read = index + 1
    const before = this.problems.length + this.forbidden.length
    this.problems.push(...badTextFields(value, [index], MAX_LISTED_PROBLEMS))
    let input = value
    if (this.own !== undefined && isObject(value)) {
      if (value.customerId === undefined) input = { ...value, customerId: this.own }
      const type = value.type
      if (typeof type === 'string' && knownTypes.has(type) && !customerTypes.has(type))
        this.forbidden.push({
          path: `${index}.type`,
          message: `a customer token may send only ${CUSTOMER_EVENT_TYPES.join(', ')} events; ${type} events are facts only Steward records`,
          code: 'forbidden_type',
        })
    }
    const r = TelemetryEvent.safeParse(input)
    if (!r.success) this.problems.push(...zodFields(r.error, [index]))
    else this.checkEvent(r.data, index)
    if (this.problems.length + this.forbidden.length === before && r.success) this.events.push(r.data)
    return !this.full
  }

  private checkEvent(e: TelemetryEvent, index: number) {
    if (e.eventId.startsWith(STEWARD_ID_PREFIX))
      this.problems.push({
        path: `${index}.eventId`,
        message: `ids starting with "${STEWARD_ID_PREFIX}" are reserved for Steward's own events`,
        code: 'reserved_id',
      })
    if (this.own !== undefined && e.customerId !== this.own)
      this.forbidden.push({
        path: `${index}.customerId`,
        message: `this token may only send events of customer ${this.own}`,
        code: 'forbidden_customer',
      })
    const times: [string, string][] = [['ts', e.ts]]
    if (e.type === 'recovery') times.push(['detectedAt', e.detectedAt], ['recoveredAt', e.recoveredAt])
    for (const [field, iso] of times) this.checkTime(`${index}.${field}`, Date.parse(iso), e.customerId)
  }

  private checkTime(path: string, at: number, customerId: string) {
    const { maxFutureHours, customerMaxAgeHours, factoryHistoryDays } = this.limits
    const late = (message: string) => this.problems.push({ path, message, code: 'out_of_range' })
    if (at > this.now + maxFutureHours * HOUR) {
      late(`must not be more than ${maxFutureHours} h in the future`)
      return
    }
    if (at >= this.now - customerMaxAgeHours * HOUR) return
    if (this.own !== undefined)
      late(`must not be more than ${customerMaxAgeHours} h in the past (the limit of a customer token)`)
    else if (customerId === '') {
      if (at < this.now - factoryHistoryDays * 24 * HOUR)
        late(`must not be more than ${factoryHistoryDays} days in the past (factory history limit)`)
    } else this.history.push({ path, customerId, at })
  }

  /** Judges the operator's history against each customer's contract start (after the body was read). */
  async checkHistory(contractStarts: ContractStarts | undefined): Promise<void> {
    if (this.history.length === 0) return
    const ids = [...new Set(this.history.map((h) => h.customerId))]
    const starts = contractStarts ? await contractStarts(ids) : new Map<string, Date>()
    for (const h of this.history) {
      const start = starts.get(h.customerId)
      if (start && h.at >= start.getTime()) continue
      this.problems.push({
        path: h.path,
        message: start
          ? `must not be before the contract start of customer ${h.customerId} (${start.toISOString()})`
          : `must not be more than ${this.limits.customerMaxAgeHours} h in the past: customer ${h.customerId} is not registered, so it has no contract start to go back to`,
        code: 'out_of_range',
      })
    }
  }

  /** The admitted events, or the refusal: 413 (too many), 400 (any problem), 403 (only forbidden ones). */
  result(): TelemetryEvent[] {
    const max = this.limits.maxEventsPerRequest
    if (this.tooMany)
      throw new PayloadTooLargeError(`the batch holds more than ${max} events; at most ${max} per request`, {
        maxEvents: max,
      })
    const all = [...this.problems, ...this.forbidden].sort((a, b) => indexOf(a) - indexOf(b))
    const listed = all.slice(0, MAX_LISTED_PROBLEMS)
    const stopped = this.full ? `; the body was not read past event ${this.read - 1}` : ''
    if (this.problems.length > 0)
      throw new ValidationError(
        listed,
        `${all.length} problem${all.length === 1 ? '' : 's'} in the batch (the first ${listed.length} listed${stopped}); nothing was stored`,
      )
    if (this.forbidden.length > 0)
      throw new ForbiddenError(
        `${this.forbidden.length} event${this.forbidden.length === 1 ? '' : 's'} this token may not send${stopped}; nothing was stored`,
        { errors: listed },
      )
    if (this.events.length === 0)
      throw new ValidationError([{ path: '(body)', message: 'the batch holds no events', code: 'too_small' }])
    return this.events
  }
}
