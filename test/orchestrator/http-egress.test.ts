// The `http` kind under the egress policy, end to end: runs submitted with a customer token through
// the API and executed by the in-process worker. A step that names a loopback, private or metadata
// destination (in any spelling, by name, or through a redirect) fails as `validation` without a
// request ever reaching the stand-in behind it; an allowlisted name is reached; an endless reply
// ends with a bounded result; a slow one times out as `transient`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { egressConfigSchema } from '../../src/egress/index.ts'
import { type DnsStandIn, startDnsStandIn } from '../egress/dns-standin.ts'
import { type StandIn, startStandIn } from '../egress/standins.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { fastConfig, getRun, type Json, run, step, submit, waitForRun } from './helpers.ts'

let s: TestSteward
let target: StandIn // 127.0.0.1: reached only through the allowlisted name allowed.test
let forbidden: StandIn // 127.0.0.1 on another port: must never see a request
let forbidden6: StandIn | undefined // ::1 on the same port, where the machine has IPv6 loopback
let dns: DnsStandIn
let token: string
const TIMEOUT_MS = 1_500

beforeAll(async () => {
  target = await startStandIn('127.0.0.1')
  forbidden = await startStandIn('127.0.0.1')
  forbidden6 = await startStandIn('::1', forbidden.port).catch(() => undefined)
  dns = await startDnsStandIn({
    'allowed.test': ['127.0.0.1'],
    localhost: ['127.0.0.1', '::1'],
    'mixed.test': ['93.184.216.34', '127.0.0.1'],
  })
  s = await startTestSteward({
    file: {
      orchestrator: fastConfig({ concurrency: 8 }),
      egress: egressConfigSchema.parse({
        allowlist: ['allowed.test'],
        resolvers: [dns.server],
        timeoutMs: TIMEOUT_MS,
      }),
    },
  })
  expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
  token = ((await (await s.api('POST', '/v1/customers/acme/tokens', {})).json()) as { token: string }).token
})
afterAll(async () => {
  await s?.stop()
  for (const x of [target, forbidden, forbidden6]) await x?.close()
  await dns?.close()
})

/** Submits one `http` step as the customer and waits for the run to finish. */
async function httpStep(input: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Json> {
  const id = await submit(s, run([{ key: 'call', kind: 'http', input, ...extra }]), token)
  await waitForRun(s, id)
  return getRun(s, id, token)
}

describe('refused destinations', () => {
  const f = () => forbidden.port
  it.each([
    ['loopback', () => `http://127.0.0.1:${f()}/`, 'is a loopback address'],
    ['the unspecified address', () => `http://0.0.0.0:${f()}/`, 'is an unspecified address'],
    ['IPv6 loopback', () => `http://[::1]:${f()}/`, 'is a loopback address'],
    [
      'IPv4-mapped loopback',
      () => `http://[::ffff:127.0.0.1]:${f()}/`,
      'is a loopback address (IPv4-mapped)',
    ],
    ['NAT64 loopback', () => `http://[64:ff9b::127.0.0.1]:${f()}/`, 'is a loopback address (NAT64)'],
    ['loopback as a decimal number', () => `http://2130706433:${f()}/`, 'is a loopback address'],
    ['loopback in hex', () => `http://0x7f000001:${f()}/`, 'is a loopback address'],
    ['loopback in octal', () => `http://0177.0.0.1:${f()}/`, 'is a loopback address'],
    ['loopback in short hex', () => `http://0x7f.1:${f()}/`, 'is a loopback address'],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/iam/', 'is a cloud metadata address'],
    ['a name that resolves to loopback', () => `http://localhost:${f()}/`, 'resolves to a loopback address'],
    [
      'a name whose answer mixes a public and a private address',
      () => `http://mixed.test:${f()}/`,
      'resolves to a loopback address',
    ],
  ])('%s fails the step as validation, and nothing is sent', async (_what, url, why) => {
    const r = await httpStep({ url: url(), method: 'GET', headers: { 'x-aws-ec2-metadata-token': 'stolen' } })
    expect(r).toMatchObject({ status: 'failed', errorClass: 'validation' })
    const job = step(r, 'call')
    expect(job).toMatchObject({ status: 'failed', attempt: 1, errorClass: 'validation' })
    expect(job.attempts).toHaveLength(1)
    expect(job.attempts[0].error).toMatch(/^egress_refused: http:\/\/\S+ /)
    expect(job.attempts[0].error).toContain(why)
    expect(forbidden.seen).toEqual([])
    expect(forbidden6?.seen ?? []).toEqual([])
  })

  it('a redirect from the allowlisted server to a forbidden address fails as validation', async () => {
    const to = `http://127.0.0.1:${forbidden.port}/admin`
    const before = target.seen.length
    const r = await httpStep({
      url: `http://allowed.test:${target.port}/redirect?status=307&to=${encodeURIComponent(to)}`,
      headers: { authorization: 'Bearer customer-secret' },
    })
    const job = step(r, 'call')
    expect(job).toMatchObject({ status: 'failed', attempt: 1, errorClass: 'validation' })
    expect(job.attempts[0].error).toBe(
      `egress_refused: http://127.0.0.1:${forbidden.port} is a loopback address`,
    )
    expect(target.seen.length - before).toBe(1)
    expect(forbidden.seen).toEqual([])
  })

  it('names no resolved address to the customer', async () => {
    const r = await httpStep({ url: `http://mixed.test:${forbidden.port}/` })
    expect(JSON.stringify(r)).not.toContain('127.0.0.1')
  })
})

describe('what reaches its target', () => {
  it('the allowlist lets a named loopback target through, with the step headers', async () => {
    const r = await httpStep({ url: `http://allowed.test:${target.port}/echo`, body: { n: 1 } })
    expect(r.status).toBe('succeeded')
    const out = step(r, 'call').output
    expect(out).toMatchObject({ status: 200, body: { method: 'POST', body: '{"n":1}' } })
    expect(out.body.headers).toMatchObject({
      host: `allowed.test:${target.port}`,
      'idempotency-key': `${r.id}:call`,
      'x-steward-attempt': '1',
    })
    expect(out.truncated).toBeUndefined()
  })

  it('an endless reply ends the step with the first 64 KiB and closes the connection', async () => {
    const r = await httpStep({ url: `http://allowed.test:${target.port}/endless`, method: 'GET' })
    expect(r.status).toBe('succeeded')
    const out = step(r, 'call').output
    expect(out).toMatchObject({ status: 200, truncated: true })
    expect(out.body).toHaveLength(64 * 1024)
    await target.endless.done
    expect(target.endless.closed).toBe(true)
    // The worker stopped reading: the server got no further than the socket buffers let it.
    expect(target.endless.sent).toBeLessThan(32 * 1024 * 1024)
  })
})

describe('time limits', () => {
  it('a reply slower than the policy timeout fails the step as transient', async () => {
    const r = await httpStep(
      { url: `http://allowed.test:${target.port}/slow`, method: 'GET' },
      { retry: { maxAttempts: 1 } },
    )
    expect(r).toMatchObject({ status: 'failed', errorClass: 'transient' })
    const job = step(r, 'call')
    expect(job.attempts[0].error).toBe(`egress_timeout: no complete reply within ${TIMEOUT_MS} ms`)
  })

  it("the step's own shorter timeoutMs still applies", async () => {
    const r = await httpStep(
      { url: `http://allowed.test:${target.port}/slow`, method: 'GET' },
      { retry: { maxAttempts: 1 }, timeoutMs: 200 },
    )
    expect(r).toMatchObject({ status: 'failed', errorClass: 'transient' })
    expect(step(r, 'call').attempts[0].error).toBe('timed out after 200 ms')
  })
})

describe('what is refused at submission', () => {
  it('refuses framing headers and control characters in step headers, naming the field', async () => {
    for (const headers of [
      { host: 'internal' },
      { 'transfer-encoding': 'chunked' },
      { 'x-a': 'v\r\nx-b: 1' },
    ]) {
      const res = await s.api(
        'POST',
        '/v1/runs',
        run([{ key: 'call', kind: 'http', input: { url: `http://allowed.test:${target.port}/`, headers } }]),
        token,
      )
      expect(res.status).toBe(400)
      const body = (await res.json()) as { errors: { path: string }[] }
      expect(body.errors[0]?.path).toMatch(/^steps\.0\.input\.headers/)
    }
  })
})
