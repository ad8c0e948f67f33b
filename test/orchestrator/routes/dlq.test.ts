// /v1/dlq, what is refused and who is refused: an unknown entry is a 404; a customer token lists
// and retries its own dead jobs only. (What works: ../failures.test.ts, "the dead-letter queue".)
import { describe, expect, it } from 'vitest'
import { type Json, run, submit } from '../helpers.ts'
import { quietSteward } from './support.ts'

const tenants = quietSteward()

describe('what is refused', () => {
  it('answers 404 for an unknown DLQ entry', async () => {
    expect((await tenants().s.api('POST', '/v1/dlq/nope/retry')).status).toBe(404)
  })
})

describe('who is refused', () => {
  it('shows a customer token only its own dead-letter queue', async () => {
    const { s, acme, globex } = tenants()
    const id = await submit(s, run([{ key: 'a', kind: 'noop' }], { customerId: 'globex' }), globex)
    await s.deps.pool.query(`UPDATE jobs SET status = 'dead', dead_lettered_at = now() WHERE run_id = $1`, [
      id,
    ])
    const { rows } = await s.deps.pool.query(`SELECT id FROM jobs WHERE run_id = $1`, [id])
    const mine = (await (await s.api('GET', '/v1/dlq', undefined, acme)).json()) as Json
    expect(mine.items).toEqual([])
    expect((await s.api('GET', '/v1/dlq?customerId=globex', undefined, acme)).status).toBe(403)
    expect((await s.api('POST', `/v1/dlq/${rows[0].id}/retry`, undefined, acme)).status).toBe(404)
    const theirs = (await (await s.api('GET', '/v1/dlq', undefined, globex)).json()) as Json
    expect(theirs.items.map((j: Json) => j.jobId)).toEqual([rows[0].id])
  })
})
