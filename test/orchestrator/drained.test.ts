// A freed slot claims only when a claim may find something: not after a claim that left no
// queued job of the pool behind, until a NOTIFY says a job became ready. Claims are counted on
// the real pool, by the name of the claim statement.
import { afterEach, describe, expect, it } from 'vitest'
import type { Pool, PoolClient } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { createRun, handlerSet, Worker } from '../../src/orchestrator/index.ts'
import { quietLog } from '../helpers/db.ts'
import { until } from '../helpers/until.ts'
import { acmeDatabase, acmeRun, allSucceeded, fastConfig } from './helpers.ts'

// No poll during a test: every claim after the first is a NOTIFY's or a freed slot's.
const config = fastConfig({ pollMs: 60_000 })
const handlers = handlerSet(createEgressPolicy(), [])
let pool: Pool
acmeDatabase((p) => {
  pool = p
})

let claims = 0
const counted = new WeakSet<PoolClient>()
/** Counts the claim statements every connection of the pool runs from now on. */
function countClaims() {
  claims = 0
  pool.on('acquire', (c: PoolClient) => {
    if (counted.has(c)) return
    counted.add(c)
    const query = c.query.bind(c) as (...a: unknown[]) => unknown
    ;(c as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      const q = a[0] as { name?: string }
      if (q?.name === 'steward_orchestrator_claimOpenAlone') claims++
      return query(...a)
    }
  })
}

const noops = (n: number) =>
  Promise.all(
    Array.from({ length: n }, () => createRun(pool, config, handlers, acmeRun([{ key: 'x', kind: 'noop' }]))),
  )
const succeeded = (ids: string[]) => allSucceeded(pool, ids)

let worker: Worker | undefined
afterEach(async () => {
  await worker?.stop(1_000)
  worker = undefined
})

describe('claims after a slot frees', () => {
  it('does not claim when its last claim left no queued job behind', async () => {
    countClaims()
    worker = new Worker({ pool, config, log: quietLog, concurrency: 4, handlers })
    await worker.start()
    await until(
      async () => claims,
      (n) => n >= 1,
      'the first claim',
    )
    // Four runs in one statement: one NOTIFY, one claim takes all four.
    const runs = await noops(4)
    await succeeded(runs.map((r) => r.id))
    await new Promise((r) => setTimeout(r, 200))
    // The claim at start (nothing queued) and the one the NOTIFY woke; none when the four slots freed.
    expect(claims).toBe(2)
  })

  it('claims again when its last claim left jobs queued', async () => {
    worker = new Worker({ pool, config, log: quietLog, concurrency: 2, handlers })
    await worker.start()
    // Seven jobs, two slots: only freed slots can start the last five (no poll, one NOTIFY).
    const runs = await noops(7)
    await succeeded(runs.map((r) => r.id))
  })

  it('claims what a NOTIFY announces after it went quiet', async () => {
    worker = new Worker({ pool, config, log: quietLog, concurrency: 2, handlers })
    await worker.start()
    await succeeded((await noops(2)).map((r) => r.id))
    await succeeded((await noops(3)).map((r) => r.id))
  })
})
