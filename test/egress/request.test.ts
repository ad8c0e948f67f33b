// The egress client against real loopback servers and a DNS stand-in: what a request does (pinned
// connection, redirects by the rules, bounded replies, timeouts) and what it refuses (never sent).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createEgressPolicy,
  EgressError,
  type EgressPolicy,
  egressConfigSchema,
} from '../../src/egress/index.ts'
import { createLogger } from '../../src/log.ts'
import { type DnsStandIn, startDnsStandIn } from './dns-standin.ts'
import { type StandIn, startStandIn } from './standins.ts'

let a: StandIn // 127.0.0.1, allowlisted with its port
let b: StandIn // 127.0.0.2, allowlisted (another origin)
let b2: StandIn // 127.0.0.3 on b's port: where a rebound name would lead
let forbidden: StandIn // 127.0.0.1 on another port: not allowlisted
let dns: DnsStandIn
let policy: EgressPolicy
const logged: Record<string, unknown>[] = []
let rebindAnswers = 0

beforeAll(async () => {
  a = await startStandIn('127.0.0.1')
  b = await startStandIn('127.0.0.2')
  b2 = await startStandIn('127.0.0.3', b.port)
  forbidden = await startStandIn('127.0.0.1')
  dns = await startDnsStandIn({
    'named.test': ['127.0.0.1'],
    'mixed.test': ['93.184.216.34', '127.0.0.1'],
    'private.test': ['10.1.2.3', 'fd00::1'],
    // Answers 127.0.0.2 once, then 127.0.0.3: a rebinding attempt.
    'rebind.test': (type) => (type === 'A' ? [rebindAnswers++ === 0 ? '127.0.0.2' : '127.0.0.3'] : []),
  })
  const log = createLogger('warn', {}, (line) => logged.push(JSON.parse(line)))
  policy = createEgressPolicy(
    egressConfigSchema.parse({
      allowlist: [`127.0.0.1:${a.port}`, '127.0.0.2', 'named.test'],
      resolvers: [dns.server],
      timeoutMs: 1_000,
      maxRedirects: 3,
    }),
    { log },
  )
})
afterAll(async () => {
  for (const s of [a, b, b2, forbidden]) await s?.close()
  await dns?.close()
})

const json = (buf: Buffer) => JSON.parse(buf.toString('utf8'))
async function failure(p: Promise<unknown>): Promise<EgressError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(EgressError)
  return err as EgressError
}
const redirect = (from: StandIn, status: number, to: string) =>
  `${from.base}/redirect?status=${status}&to=${encodeURIComponent(to)}`

describe('what a request does', () => {
  it('reaches an allowlisted address with the method, headers and body given', async () => {
    const res = await policy.request(`${a.base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-custom': '1' },
      body: '{"n":1}',
    })
    expect(res).toMatchObject({ status: 200, truncated: false, redirects: 0 })
    expect(json(res.body)).toMatchObject({ method: 'POST', body: '{"n":1}', headers: { 'x-custom': '1' } })
  })

  it('reaches an allowlisted IPv6 literal', async (t) => {
    const v6 = await startStandIn('::1').catch(() => undefined)
    if (!v6) return t.skip() // no IPv6 loopback on this machine
    try {
      const p = createEgressPolicy(egressConfigSchema.parse({ allowlist: [`[::1]:${v6.port}`] }))
      const res = await p.request(`http://[::1]:${v6.port}/echo`)
      expect(json(res.body).headers.host).toBe(`[::1]:${v6.port}`)
      expect((await failure(p.request(`http://[::1]:${forbidden.port}/`))).detail.reason).toBe('loopback')
    } finally {
      await v6.close()
    }
  })

  it('never takes framing headers from the caller', async () => {
    const res = await policy.request(`${a.base}/echo`, {
      headers: { host: 'internal.example', 'transfer-encoding': 'chunked', 'proxy-authorization': 'x' },
    })
    const seen = json(res.body).headers
    expect(seen.host).toBe(`127.0.0.1:${a.port}`)
    expect(seen['transfer-encoding']).toBeUndefined()
    expect(seen['proxy-authorization']).toBeUndefined()
  })

  it('resolves a name once and connects to the address it checked (no rebinding window)', async () => {
    const res = await policy.request(`http://rebind.test:${b.port}/echo`)
    expect(res.status).toBe(200)
    expect(json(res.body).headers.host).toBe(`rebind.test:${b.port}`)
    expect(b.seen.some((s) => s.headers.host === `rebind.test:${b.port}`)).toBe(true)
    expect(b2.seen).toEqual([])
    expect(dns.asked.filter((q) => q === 'A rebind.test')).toHaveLength(1)
  })
})

describe('redirects', () => {
  it('303 after a POST continues as GET without the body', async () => {
    const res = await policy.request(redirect(a, 303, '/echo'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"secret":1}',
    })
    expect(res.redirects).toBe(1)
    const echoed = json(res.body)
    expect(echoed).toMatchObject({ method: 'GET', body: '' })
    expect(echoed.headers['content-type']).toBeUndefined()
  })

  it('301/302 turn a POST into a GET, and keep other methods with their body', async () => {
    for (const status of [301, 302]) {
      const post = await policy.request(redirect(a, status, '/echo'), { method: 'POST', body: 'x' })
      expect(json(post.body)).toMatchObject({ method: 'GET', body: '' })
      const put = await policy.request(redirect(a, status, '/echo'), { method: 'PUT', body: 'x' })
      expect(json(put.body)).toMatchObject({ method: 'PUT', body: 'x' })
    }
  })

  it('307/308 keep the method and the body', async () => {
    for (const status of [307, 308]) {
      const res = await policy.request(redirect(a, status, '/echo'), { method: 'POST', body: 'kept' })
      expect(json(res.body)).toMatchObject({ method: 'POST', body: 'kept' })
    }
  })

  it('keeps credentials on the same origin and drops them on another', async () => {
    const headers = {
      authorization: 'Bearer s3cret',
      cookie: 'session=1',
      'x-api-key': 'k',
      accept: 'application/json',
      'x-keep': 'yes',
    }
    const same = await policy.request(redirect(a, 307, '/echo'), { headers })
    expect(json(same.body).headers).toMatchObject({ authorization: 'Bearer s3cret', cookie: 'session=1' })
    const other = await policy.request(redirect(a, 307, `${b.base}/echo`), {
      headers,
      keepOnCrossOrigin: ['x-keep'],
    })
    expect(other.url).toBe(`${b.base}/echo`)
    const seen = json(other.body).headers
    expect(seen.authorization).toBeUndefined()
    expect(seen.cookie).toBeUndefined()
    expect(seen['x-api-key']).toBeUndefined()
    expect(seen).toMatchObject({ accept: 'application/json', 'x-keep': 'yes' })
  })

  it('follows at most maxRedirects, then fails', async () => {
    const before = a.seen.length
    const loop = `${a.base}/redirect?status=302&to=${encodeURIComponent('/redirect?status=302&to=/echo')}`
    const chain = redirect(a, 302, redirect(a, 302, loop))
    const err = await failure(policy.request(chain))
    expect(err.code).toBe('egress_redirect')
    expect(err.message).toMatch(/more than 3 redirects/)
    expect(a.seen.length - before).toBe(4)
  })

  it('refuses a redirect to something that is not http(s)', async () => {
    const err = await failure(policy.request(redirect(a, 302, 'file:///etc/passwd')))
    expect(err).toMatchObject({ code: 'egress_redirect', permanent: true })
  })

  it('returns the 3xx itself when told not to follow', async () => {
    const res = await policy.request(redirect(a, 302, `${forbidden.base}/`), { followRedirects: false })
    expect(res.status).toBe(302)
    expect(res.headers.location).toBe(`${forbidden.base}/`)
  })
})

describe('bounded replies', () => {
  it('keeps maxResponseBytes of an endless reply and closes the connection', async () => {
    const res = await policy.request(`${a.base}/endless`, { maxResponseBytes: 1000 })
    expect(res).toMatchObject({ status: 200, truncated: true })
    expect(res.body.length).toBe(1000)
    await a.endless.done
    expect(a.endless.closed).toBe(true)
    // What the server managed to write before the close: socket buffers, not an unbounded stream.
    expect(a.endless.sent).toBeLessThan(32 * 1024 * 1024)
  })

  it('reads no body when maxResponseBytes is 0', async () => {
    const res = await policy.request(`${a.base}/echo`, { maxResponseBytes: 0 })
    expect(res).toMatchObject({ status: 200, truncated: false })
    expect(res.body.length).toBe(0)
  })

  it('times out a reply that never ends', async () => {
    const err = await failure(policy.request(`${a.base}/slow`))
    expect(err).toMatchObject({ code: 'egress_timeout', permanent: false })
  })

  it("stops at once when the caller's signal aborts, with the caller's reason", async () => {
    const ac = new AbortController()
    const reason = new Error('cancelled by caller')
    const p = policy.request(`${a.base}/slow`, { signal: ac.signal, timeoutMs: 60_000 })
    setTimeout(() => ac.abort(reason), 50)
    await expect(p).rejects.toBe(reason)
  })
})

describe('what is refused, and never sent', () => {
  it('refuses a loopback port that is not allowlisted', async () => {
    const err = await failure(policy.request(`${forbidden.base}/`))
    expect(err).toMatchObject({ code: 'egress_refused', permanent: true })
    expect(err.detail).toMatchObject({ reason: 'loopback', address: '127.0.0.1' })
    expect(err.message).toBe(`egress_refused: ${forbidden.base} is a loopback address`)
    expect(forbidden.seen).toEqual([])
  })

  it('refuses a name whose answer mixes a public and a private address, without naming the address', async () => {
    const err = await failure(policy.request(`http://mixed.test:${forbidden.port}/`))
    expect(err.detail).toMatchObject({ reason: 'loopback', address: '127.0.0.1', host: 'mixed.test' })
    expect(err.message).toBe(
      `egress_refused: http://mixed.test:${forbidden.port} resolves to a loopback address`,
    )
    expect(forbidden.seen).toEqual([])
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: 'egress refused', host: 'mixed.test', address: '127.0.0.1' }),
    )
  })

  it('refuses a redirect from an allowed server to a forbidden one', async () => {
    const err = await failure(policy.request(redirect(a, 302, `${forbidden.base}/secret`)))
    expect(err.code).toBe('egress_refused')
    expect(forbidden.seen).toEqual([])
  })

  it('refuses URLs with credentials and other schemes', async () => {
    for (const url of [`http://user:pw@127.0.0.1:${a.port}/`, 'ftp://example.com/', 'not a url'])
      expect((await failure(policy.request(url))).code).toBe('egress_bad_request')
  })

  it('refuses private names, 0.0.0.0 and the metadata address', async () => {
    for (const [url, reason] of [
      [`http://private.test:${forbidden.port}/`, 'private'],
      [`http://0.0.0.0:${forbidden.port}/`, 'unspecified'],
      ['http://169.254.169.254/latest/meta-data/', 'cloud-metadata'],
      ['http://[fd00:ec2::254]/', 'cloud-metadata'],
    ])
      expect((await failure(policy.request(url!))).detail.reason).toBe(reason)
    expect(forbidden.seen).toEqual([])
  })
})

describe('the allowlist', () => {
  it('lets a name through whatever it resolves to', async () => {
    const res = await policy.request(`http://named.test:${forbidden.port}/echo`)
    expect(res.status).toBe(200)
    expect(forbidden.seen.map((s) => s.headers.host)).toEqual([`named.test:${forbidden.port}`])
    forbidden.seen.length = 0
  })

  it('is empty by default: a policy without config refuses loopback', async () => {
    const err = await failure(createEgressPolicy().request(`${a.base}/`))
    expect(err.code).toBe('egress_refused')
  })
})
