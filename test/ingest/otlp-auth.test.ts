// The OTLP receiver: who may send what, as for POST /v1/events (docs/telemetry.md, "Who may say
// what"). A customer token's data is its customer's, whatever its resource says; the admin token
// names the customer with `steward.customer_id`. Provenance is recorded with every row; times are
// bounded by who sends them. (A span naming another customer's run: trace-context.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chQuery } from '../../src/db/clickhouse.ts'
import { otlpTypes } from '../../src/ingest/otlp/proto.ts'
import { ADMIN_TOKEN, startTestSteward, type TestSteward } from '../helpers/app.ts'
import { jsonSpan, jsonTraces, protobufSpans, recordSpans, shipAll } from './otlp-support.ts'
import { ingestConfig, uniqueCustomer } from './support.ts'

let t: TestSteward
let acme: string
let acmeToken: string
let globex: string

async function customerWithToken(label: string, since?: string): Promise<[string, string]> {
  const id = uniqueCustomer(label)
  expect((await t.api('POST', '/v1/customers', { id, name: label, ...(since && { since }) })).status).toBe(
    201,
  )
  const { token } = (await (await t.api('POST', `/v1/customers/${id}/tokens`, {})).json()) as {
    token: string
  }
  return [id, token]
}

beforeAll(async () => {
  t = await startTestSteward({
    file: { ingest: ingestConfig({ heartbeatIntervalMs: 0, relay: { enabled: false } }) },
  })
  ;[acme, acmeToken] = await customerWithToken('acme', new Date(Date.now() - 90 * 86_400_000).toISOString())
  ;[globex] = await customerWithToken('globex')
})
afterAll(async () => {
  await t?.stop()
})

const DAY = 86_400_000
type Answer = { partialSuccess?: { rejectedSpans: string; errorMessage: string } }

const spansOf = async (name: string) => {
  await shipAll(t)
  return chQuery<{ CustomerId: string; Source: string }>(
    t.deps.clickhouse!,
    'SELECT CustomerId, Source FROM otel_traces WHERE SpanName = {n:String} ORDER BY CustomerId',
    { n: name },
  )
}

describe('OTLP without a valid token', () => {
  it('is a 401 as an OTLP Status, in the encoding of the request', async () => {
    const json = await t.api('POST', '/v1/otlp/v1/traces', jsonTraces([]), null)
    expect(json.status).toBe(401)
    expect(await json.json()).toMatchObject({ code: 16, message: expect.stringMatching(/bearer token/) })
    const spans = await recordSpans({}, (tr) => tr.startSpan('x').end())
    const proto = await t.api('POST', '/v1/otlp/v1/traces', protobufSpans(spans), 'not-a-token', {
      'content-type': 'application/x-protobuf',
    })
    expect(proto.status).toBe(401)
    expect(proto.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(otlpTypes.status.decode(new Uint8Array(await proto.arrayBuffer())).toJSON()).toMatchObject({
      code: 16,
    })
  })
})

describe("a customer token's OTLP data", () => {
  it("is its customer's, recorded as the customer's word; a resource naming another customer is refused", async () => {
    const name = uniqueCustomer('span')
    const body = {
      resourceSpans: [
        ...jsonTraces([jsonSpan({ name, startMs: Date.now() })]).resourceSpans,
        ...jsonTraces([jsonSpan({ name, startMs: Date.now() })], { 'steward.customer_id': acme })
          .resourceSpans,
        ...jsonTraces([jsonSpan({ name, startMs: Date.now() })], { 'steward.customer_id': globex })
          .resourceSpans,
      ],
    }
    const res = await t.api('POST', '/v1/otlp/v1/traces', body, acmeToken)
    expect(res.status).toBe(200)
    const answer = (await res.json()) as Answer
    expect(answer.partialSuccess?.rejectedSpans).toBe('1')
    expect(answer.partialSuccess?.errorMessage).toMatch(
      new RegExp(
        `span 2 .*names customer "${globex}" \\(steward.customer_id\\); this token sends only customer ${acme}'s`,
      ),
    )
    expect(await spansOf(name)).toEqual([
      { CustomerId: acme, Source: 'customer' },
      { CustomerId: acme, Source: 'customer' },
    ])
  })

  it('may go back at most http.customerMaxAgeHours (7 days), whatever its contract', async () => {
    const res = await t.api(
      'POST',
      '/v1/otlp/v1/traces',
      jsonTraces([jsonSpan({ startMs: Date.now() - 8 * DAY })]),
      acmeToken,
    )
    expect(((await res.json()) as Answer).partialSuccess?.errorMessage).toMatch(
      /startTimeUnixNano must not be more than 168 h in the past \(the limit of a customer token\)/,
    )
  })
})

describe("the admin token's OTLP data", () => {
  it("is the customer its resource names, or the factory's, recorded as the operator's word", async () => {
    const name = uniqueCustomer('admin-span')
    const body = {
      resourceSpans: [
        ...jsonTraces([jsonSpan({ name, startMs: Date.now() })], { 'steward.customer_id': globex })
          .resourceSpans,
        ...jsonTraces([jsonSpan({ name, startMs: Date.now() })]).resourceSpans,
      ],
    }
    expect(await (await t.api('POST', '/v1/otlp/v1/traces', body, ADMIN_TOKEN)).json()).toEqual({})
    expect(await spansOf(name)).toEqual([
      { CustomerId: '', Source: 'operator' },
      { CustomerId: globex, Source: 'operator' },
    ])
  })

  it("goes back to a customer's contract start, not before; an unregistered customer's only as far as a customer may", async () => {
    const at = (days: number) => jsonSpan({ name: `back-${days}`, startMs: Date.now() - days * DAY })
    const res = await t.api(
      'POST',
      '/v1/otlp/v1/traces',
      {
        resourceSpans: [
          ...jsonTraces([at(20), at(120)], { 'steward.customer_id': acme }).resourceSpans,
          ...jsonTraces([at(10)], { 'steward.customer_id': 'never-registered' }).resourceSpans,
        ],
      },
      ADMIN_TOKEN,
    )
    const answer = (await res.json()) as Answer
    expect(answer.partialSuccess?.rejectedSpans).toBe('2')
    expect(answer.partialSuccess?.errorMessage).toMatch(
      new RegExp(`span 1 .*must not be before the contract start of customer ${acme}`),
    )
    expect(answer.partialSuccess?.errorMessage).toMatch(
      /span 2 .*customer never-registered is not registered/,
    )
    expect(await spansOf('back-20')).toEqual([{ CustomerId: acme, Source: 'operator' }])
  })
})
