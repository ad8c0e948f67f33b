// /v1/jobs/:id/retry, what is refused and who is refused: an unknown job, and another customer's
// job, are a 404. (What works, and the 409 for a job that has not failed: ../control.test.ts.)
import { describe, expect, it } from 'vitest'
import { run, submit } from '../helpers.ts'
import { quietSteward } from './support.ts'

const tenants = quietSteward()

describe('what is refused', () => {
  it('answers 404 for an unknown job', async () => {
    expect((await tenants().s.api('POST', '/v1/jobs/nope/retry')).status).toBe(404)
  })
})

describe('who is refused', () => {
  it('hides another customer’s jobs: retrying one is a 404', async () => {
    const { s, acme, globex } = tenants()
    const id = await submit(s, run([{ key: 'a', kind: 'noop' }], { customerId: 'globex' }), globex)
    const { rows } = await s.deps.pool.query(`SELECT id FROM jobs WHERE run_id = $1`, [id])
    expect((await s.api('POST', `/v1/jobs/${rows[0].id}/retry`, undefined, acme)).status).toBe(404)
  })
})
