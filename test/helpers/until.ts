// Polling for a state reached asynchronously (a relay, a worker), with a bound and a clear failure.

/** Reads until `ok` holds (every 25 ms, up to 20 s); fails naming `what` and the last value read. */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const end = Date.now() + 20_000
  for (;;) {
    const v = await read()
    if (ok(v)) return v
    if (Date.now() > end) throw new Error(`still not ${what}: ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
