// The token look-up cache: bounded (least recently used forgotten first), valid and unknown
// tokens kept apart, so hot tokens stay cached whatever else is presented; a revocation through
// this process takes effect at once without emptying the cache. Observed through revocations
// made behind the cache's back (straight in PostgreSQL, as another instance would): a token still
// answered as valid afterwards was answered from the cache.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPool, type Pool } from '../../src/db/postgres.ts'
import { tokenResolver } from '../../src/tenants/index.ts'
import { CustomerSettings } from '../../src/tenants/settings.ts'
import { createCustomer, issueToken, revokeToken } from '../../src/tenants/store.ts'
import { createTestPool } from '../helpers/db.ts'

let pool: Pool
let url: string
const pools: Pool[] = []
beforeAll(async () => {
  ;({ pool, url } = await createTestPool())
  await createCustomer(pool, CustomerSettings.parse({}), { id: 'acme', name: 'Acme' })
})
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()))
  await pool?.end()
})

/** A pool of its own (the cache is per pool, as in one serve process) and its resolver. */
function resolverOf(ttlMs = 60_000) {
  const own = createPool(url, { max: 2 })
  pools.push(own)
  return { own, resolve: tokenResolver(own, { maxEntries: 20, ttlMs }) }
}

const issue = () => issueToken(pool, 'acme')
/** Revokes behind the cache's back, as another instance would. */
const revokeElsewhere = (ids: number[]) =>
  pool.query('UPDATE api_tokens SET revoked_at = now() WHERE id = ANY($1)', [ids])

describe('the token cache', () => {
  it('keeps a hot token while more valid tokens than it holds pass, and forgets a cold one', async () => {
    const { resolve } = resolverOf()
    const hot = await issue()
    const cold = await issue()
    expect(await resolve(cold.token)).toMatchObject({ customerId: 'acme', tokenId: cold.id })
    for (let i = 0; i < 30; i++) {
      const other = await issue()
      await resolve(other.token)
      expect(await resolve(hot.token)).toMatchObject({ tokenId: hot.id })
    }
    await revokeElsewhere([hot.id, cold.id])
    expect(await resolve(hot.token)).toMatchObject({ tokenId: hot.id }) // still cached: it was in use
    expect(await resolve(cold.token)).toBeUndefined() // pushed out, looked up again: revoked
  })

  it('never lets a flood of unknown tokens push a valid one out (they are cached apart)', async () => {
    const { resolve } = resolverOf()
    const quiet = await issue()
    await resolve(quiet.token)
    for (let i = 0; i < 500; i++) expect(await resolve(`stw_${randomUUID()}`)).toBeUndefined()
    await revokeElsewhere([quiet.id])
    expect(await resolve(quiet.token)).toMatchObject({ tokenId: quiet.id })
    expect(resolve.known?.(quiet.token)).toMatchObject({ tokenId: quiet.id })
    expect(resolve.known?.(`stw_${randomUUID()}`)).toBeUndefined()
  })

  it('drops a token revoked through this process at once, keeping the others cached', async () => {
    const { own, resolve } = resolverOf()
    const [a, b] = [await issue(), await issue()]
    await resolve(a.token)
    await resolve(b.token)
    await revokeToken(own, 'acme', a.id)
    expect(await resolve(a.token)).toBeUndefined()
    await revokeElsewhere([b.id])
    expect(await resolve(b.token)).toMatchObject({ tokenId: b.id })
  })

  it('looks a token up again once its time in the cache is over', async () => {
    const { resolve } = resolverOf(50)
    const t = await issue()
    await resolve(t.token)
    await revokeElsewhere([t.id])
    const until = Date.now() + 5_000
    while ((await resolve(t.token)) !== undefined && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20))
    expect(await resolve(t.token)).toBeUndefined()
  })
})
