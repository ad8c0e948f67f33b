// Why a running job's AbortSignal fired, and racing a handler against its signal.
type StopReason = 'lost' | 'cancelled' | 'shutdown' | 'timeout'
export class AbortReason extends Error {
  constructor(readonly why: StopReason) {
    super(why === 'timeout' ? 'timed out' : `aborted: ${why}`)
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
