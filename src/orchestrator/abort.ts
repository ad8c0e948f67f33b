// Why a running job's AbortSignal fired, and racing a handler against its signal.
import { JobError } from './failures.ts'

/**
 * - lost: the database says the lease is gone (renewal refused, attempt superseded);
 * - fenced: the worker could not renew the lease in time and stopped the handler before it could
 *   expire (fence.ts);
 * - cancelled: the run was cancelled; shutdown: the worker stopped past its grace period;
 * - timeout: the step's timeoutMs passed.
 */
type StopReason = 'lost' | 'fenced' | 'cancelled' | 'shutdown' | 'timeout'

const messages: Record<StopReason, string> = {
  lost: 'lease lost: this attempt no longer holds its job (reclaimed, superseded or cancelled)',
  fenced: 'lease not renewed in time',
  cancelled: 'aborted: cancelled',
  shutdown: 'aborted: shutdown',
  timeout: 'timed out',
}

/** The reason of a job's signal; its class is the failure class the stop stands for. */
export class AbortReason extends JobError {
  constructor(
    readonly why: StopReason,
    detail?: string,
  ) {
    super(why === 'timeout' ? 'transient' : 'infrastructure', detail ?? messages[why])
  }
}

/** Settles with `p`, or rejects as soon as `signal` aborts (a handler that ignores its signal is abandoned). */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
