// The witness: each serve instance records its own liveness in PostgreSQL every few seconds,
// independent of ClickHouse and the telemetry relay, so the SLA engine can tell "the factory was
// down" from "the telemetry of that time is missing" (docs/sla.md, "Held months").
//
// Guarantees:
// - a beat extends the instance's latest span when that span's last beat is at most
//   MAX_GAP_MS old, else it opens a new span; beats at most 60 s apart put a beat in every minute
//   between them, so a span's interior minutes (wholly between its first and last beat) are
//   minutes the instance served throughout;
// - the first beat of all is when the installation first served (never moved by later beats);
// - a beat that fails (PostgreSQL unreachable) is logged and the next one tries again.
import type { Pool, Queryable } from '../db/postgres.ts'
import type { Logger } from '../log.ts'
import { MINUTE_MS, type Span } from './months.ts'

/** Beats further apart than this start a new span. */
export const MAX_GAP_MS = 60_000

const SQL = {
  beat: `
    WITH extended AS (
      UPDATE sla_witness SET last_beat = $2
      WHERE id = (SELECT id FROM sla_witness WHERE instance_id = $1 ORDER BY last_beat DESC LIMIT 1)
        AND last_beat <= $2 AND last_beat >= $2::timestamptz - $3::int * interval '1 millisecond'
      RETURNING id
    )
    INSERT INTO sla_witness (instance_id, first_beat, last_beat)
    SELECT $1, $2, $2 WHERE NOT EXISTS (SELECT 1 FROM extended)`,
  spans: `
    SELECT instance_id, first_beat, last_beat FROM sla_witness
    WHERE first_beat < $2 AND last_beat >= $1 ORDER BY first_beat, id`,
  firstServed: 'SELECT min(first_beat) AS at FROM sla_witness',
  lastBeat: 'SELECT max(last_beat) AS at FROM sla_witness WHERE instance_id = $1',
}

export interface WitnessSpan {
  instanceId: string
  firstBeat: Date
  lastBeat: Date
}

/** Records one beat of `instanceId` at `at`. */
export async function witnessBeat(db: Queryable, instanceId: string, at: Date): Promise<void> {
  await db.query(SQL.beat, [instanceId, at, MAX_GAP_MS])
}

/** Spans that overlap [from, to). */
export async function witnessSpans(db: Queryable, from: Date, to: Date): Promise<WitnessSpan[]> {
  const { rows } = await db.query<{ instance_id: string; first_beat: Date; last_beat: Date }>(SQL.spans, [
    from,
    to,
  ])
  return rows.map((r) => ({ instanceId: r.instance_id, firstBeat: r.first_beat, lastBeat: r.last_beat }))
}

/** When the installation first served (its first witness beat), or null if it never did. */
export async function firstServed(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | null }>(SQL.firstServed)
  return rows[0]?.at ?? null
}

export async function lastBeatOf(db: Queryable, instanceId: string): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | null }>(SQL.lastBeat, [instanceId])
  return rows[0]?.at ?? null
}

/** Minutes of the month wholly inside a span (1): an instance served throughout them. */
export function witnessedMinutes(month: Span, spans: WitnessSpan[]): Uint8Array {
  const mask = new Uint8Array(month.minutes)
  const t0 = month.start.getTime()
  for (const s of spans) {
    const first = Math.max(0, Math.ceil((s.firstBeat.getTime() - t0) / MINUTE_MS))
    const end = Math.min(month.minutes, Math.floor((s.lastBeat.getTime() - t0) / MINUTE_MS))
    for (let i = first; i < end; i++) mask[i] = 1
  }
  return mask
}

/** Beats every `intervalMs` until stopped; the last beat is written on stop. */
export function startWitness(opts: {
  pool: Pool
  instanceId: string
  intervalMs: number
  log?: Logger
  /** Called after each beat (its failure is logged like the beat's). */
  onBeat?: (at: Date) => Promise<void>
}): { stop(): Promise<void> } {
  let failing = false
  const beat = async () => {
    try {
      const at = new Date()
      await witnessBeat(opts.pool, opts.instanceId, at)
      await opts.onBeat?.(at)
      if (failing) opts.log?.info('sla witness beating again', { instanceId: opts.instanceId })
      failing = false
    } catch (err) {
      if (!failing) opts.log?.warn('sla witness beat failed', { error: (err as Error).message })
      failing = true
    }
  }
  let current = beat()
  const timer = setInterval(() => {
    current = current.then(beat)
  }, opts.intervalMs)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await current
      await beat()
    },
  }
}
