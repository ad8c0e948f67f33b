// The W3C trace context Steward hands out (docs/telemetry.md, "Trace context"): each run is a
// trace, each job attempt a span in it, so the spans an agent sends back over OTLP join the run and
// job that caused them.
//
// - A run's trace id is its id (a random UUID: 122 random bits, 16 bytes) as 32 hex digits; no
//   storage, and the receiver reads the run back from any span of the trace.
// - An attempt's span id is the first 8 bytes of SHA-256(`<jobId>/<attempt>`) (never all zeros):
//   the same on every worker and at the receiver, which matches a span's parent against the
//   attempts of the run's jobs.
// - The attempt's `tracestate` carries `steward=<jobId>`. OpenTelemetry SDKs keep the trace state
//   of the context a span starts in, so every span below the attempt (not only its children)
//   names the job.
// Nothing here is trusted: the receiver checks that the run and job exist and belong to the
// customer sending the span.
import { createHash } from 'node:crypto'

const UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i

/**
 * The W3C trace id of a run (32 lowercase hex digits). Runs have UUIDs; an id that is not one (a
 * run written by hand) gets a hash of itself, a trace the receiver cannot read back to the run.
 */
export function runTraceId(runId: string): string {
  if (UUID.test(runId)) return runId.replaceAll('-', '').toLowerCase()
  return createHash('sha256').update(runId).digest('hex').slice(0, 32)
}

/** The run a trace id would be (the UUID it spells), or undefined. */
export function runIdOfTrace(traceId: string): string | undefined {
  if (!/^[0-9a-f]{32}$/.test(traceId)) return undefined
  const t = traceId
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-${t.slice(12, 16)}-${t.slice(16, 20)}-${t.slice(20)}`
}

/** The span id of a job attempt (16 lowercase hex digits, never all zeros). */
export function attemptSpanId(jobId: string, attempt: number): string {
  const id = createHash('sha256').update(`${jobId}/${attempt}`).digest('hex').slice(0, 16)
  return /^0+$/.test(id) ? '0000000000000001' : id
}

export interface AttemptTraceContext {
  /** `00-<trace id>-<span id>-01`: the attempt's span, sampled. */
  traceparent: string
  /** `steward=<job id>`: names the job for every span below the attempt. */
  tracestate: string
}

/** The trace context of attempt `attempt` of job `jobId` of run `runId`. */
export function attemptTraceContext(runId: string, jobId: string, attempt: number): AttemptTraceContext {
  return {
    traceparent: `00-${runTraceId(runId)}-${attemptSpanId(jobId, attempt)}-01`,
    tracestate: `steward=${jobId}`,
  }
}

/** The job a span's trace state names (`steward=<job id>`), or undefined. */
export function jobIdOfTraceState(traceState: string): string | undefined {
  for (const member of traceState.split(',')) {
    const eq = member.indexOf('=')
    if (eq > 0 && member.slice(0, eq).trim() === 'steward') {
      const v = member.slice(eq + 1).trim()
      return UUID.test(v) ? v.toLowerCase() : undefined
    }
  }
  return undefined
}
