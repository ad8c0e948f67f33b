// The retry policy: what a failed attempt leads to, by failure class, and the backoff before the
// next attempt (exponential with full jitter, as in "Exponential Backoff And Jitter", AWS 2015).
import type { FailureClass } from './schemas.ts'
import type { ClaimedJob } from './types.ts'

export interface FailureDecision {
  status: 'queued' | 'failed' | 'dead'
  /** Telemetry action and attempt outcome. */
  action: 'retried' | 'failed' | 'dead_lettered' | 'reclaimed'
  delayMs: number
  useFallback: boolean
  countsAsFailure: boolean
  countsAsReclaim: boolean
}

export interface RetryPolicy {
  maxBackoffMs: number
  maxReclaims: number
  random?: () => number
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(failures-1))]. */
export function backoffDelay(baseMs: number, failures: number, capMs: number, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1))
  return Math.floor(random() * ceiling)
}

/** What happens to a job after an attempt failed with `cls`. */
export function decideFailure(job: ClaimedJob, cls: FailureClass, p: RetryPolicy): FailureDecision {
  const base = { delayMs: 0, useFallback: false, countsAsFailure: false, countsAsReclaim: false }
  switch (cls) {
    case 'validation':
      return { ...base, status: 'failed', action: 'failed' }
    case 'agent':
      if (job.fallback && !job.using_fallback)
        return { ...base, status: 'queued', action: 'retried', useFallback: true }
      return { ...base, status: 'dead', action: 'dead_lettered', countsAsFailure: true }
    case 'infrastructure':
      if (job.reclaims + 1 > p.maxReclaims)
        return { ...base, status: 'dead', action: 'dead_lettered', countsAsReclaim: true }
      return { ...base, status: 'queued', action: 'reclaimed', countsAsReclaim: true }
    default: {
      const failures = job.failures + 1
      if (failures >= job.max_attempts)
        return { ...base, status: 'dead', action: 'dead_lettered', countsAsFailure: true }
      const delayMs = backoffDelay(job.backoff_ms, failures, p.maxBackoffMs, p.random)
      return { ...base, status: 'queued', action: 'retried', delayMs, countsAsFailure: true }
    }
  }
}
