import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'

let s: TestSteward
beforeAll(async () => {
  s = await startTestSteward()
})
afterAll(async () => {
  await s?.stop()
})

describe('health, readiness and metrics', () => {
  it('answers /healthz without a token', async () => {
    const res = await s.api('GET', '/healthz', undefined, null)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'ok' })
  })

  it('reports ready with both engines named once migrations ran', async () => {
    const res = await s.api('GET', '/readyz', undefined, null)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'ready', postgres: 'external', clickhouse: 'embedded' })
  })

  it('exposes Prometheus metrics with request durations by route template', async () => {
    await s.api('GET', '/v1/customers/nobody')
    const text = await (await s.api('GET', '/metrics', undefined, null)).text()
    expect(text).toContain('process_cpu_user_seconds_total')
    expect(text).toMatch(
      /steward_http_request_duration_seconds_count\{route="\/v1\/customers\/:id",method="GET",status="404"\} 1/,
    )
  })

  it('serves an OpenAPI document listing every /v1 route with bearer security', async () => {
    const doc = (await (await s.api('GET', '/openapi.json', undefined, null)).json()) as {
      paths: Record<string, unknown>
      components: { securitySchemes: Record<string, unknown> }
    }
    expect(Object.keys(doc.paths)).toContain('/v1/customers/{id}')
    expect(doc.components.securitySchemes.bearerAuth).toBeDefined()
    expect((await s.api('GET', '/docs', undefined, null)).status).toBe(200)
  })
})

describe('errors are problem+json', () => {
  const expectProblem = async (res: Response, status: number) => {
    expect(res.status).toBe(status)
    expect(res.headers.get('content-type')).toContain('application/problem+json')
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      status,
      title: expect.any(String),
      detail: expect.any(String),
      type: expect.any(String),
    })
    return body
  }

  it('401 without a token, with WWW-Authenticate', async () => {
    const res = await s.api('GET', '/v1/customers', undefined, null)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    await expectProblem(res, 401)
  })

  it('401 for an unknown token', async () => {
    await expectProblem(await s.api('GET', '/v1/customers', undefined, 'stw_not-a-real-token'), 401)
  })

  it('400 for malformed JSON', async () => {
    const body = await expectProblem(await s.api('POST', '/v1/customers', '{"id":', undefined), 400)
    expect(body.detail).toMatch(/not valid JSON/)
  })

  it('400 naming every invalid field', async () => {
    const body = await expectProblem(await s.api('POST', '/v1/customers', { id: 'bad id!', name: 5 }), 400)
    const paths = (body.errors as { path: string }[]).map((e) => e.path).sort()
    expect(paths).toEqual(['id', 'name'])
  })

  it('404 for an unknown route, 405 with Allow for a wrong method', async () => {
    await expectProblem(await s.api('GET', '/v1/no-such-thing'), 404)
    const res = await s.api('DELETE', '/v1/customers')
    expect(res.headers.get('allow')).toMatch(/GET/)
    await expectProblem(res, 405)
  })

  it('400 naming every string with a NUL, a control character or a lone surrogate, storing nothing', async () => {
    const body = await expectProblem(
      await s.api('POST', '/v1/customers', {
        id: 'nul',
        name: 'a\u0000b',
        webhookSecret: 'x\u001by'.repeat(6),
      }),
      400,
    )
    expect((body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['name', 'webhookSecret'])
    await expectProblem(await s.api('GET', '/v1/customers/nul'), 404)
    const lone = await expectProblem(
      await s.api('POST', '/v1/customers', { id: 'lone', name: 'a\ud800b' }),
      400,
    )
    expect(lone.errors).toEqual([
      expect.objectContaining({ path: 'name', message: expect.stringMatching(/surrogate/) }),
    ])
    const query = await expectProblem(await s.api('GET', '/v1/runs?projectId=a%00b'), 400)
    expect((query.errors as { path: string }[])[0]!.path).toBe('query.projectId')
    // Tab, line feed and carriage return are text.
    expect((await s.api('POST', '/v1/customers', { id: 'tabs', name: 'a\tb\nc\r' })).status).toBe(201)
  })

  it('400 naming where a body nests deeper than 64 levels, at any depth, storing nothing', async () => {
    const deep = (levels: number, asArray: boolean) =>
      asArray
        ? `${'['.repeat(levels)}1${']'.repeat(levels)}`
        : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`
    for (const levels of [65, 5_000, 100_000])
      for (const asArray of [true, false]) {
        const body = await expectProblem(
          await s.api(
            'POST',
            '/v1/customers',
            `{"id":"deep","name":"Deep","since":${deep(levels, asArray)}}`,
          ),
          400,
        )
        expect(body.errors).toContainEqual(
          expect.objectContaining({ path: expect.stringMatching(/^since\./), code: 'too_deep' }),
        )
      }
    await expectProblem(await s.api('GET', '/v1/customers/deep'), 404)
    // A step's free-form input fills the 64 levels (counted from the body: body, steps, step, then
    // 61 of its own) and is stored; one level more is refused.
    const input = JSON.parse(deep(61, false))
    const run = await s.api('POST', '/v1/runs', {
      customerId: 'tabs',
      projectId: 'p',
      type: 'build',
      steps: [{ key: 'a', kind: 'noop', input }],
    })
    expect(run.status).toBe(201)
    await expectProblem(
      await s.api('POST', '/v1/runs', {
        customerId: 'tabs',
        projectId: 'p',
        type: 'build',
        steps: [{ key: 'a', kind: 'noop', input: { deeper: input } }],
      }),
      400,
    )
  })

  it('413 for a body over the limit', async () => {
    const big = JSON.stringify({ id: 'big', name: 'x'.repeat(2 * 1024 * 1024) })
    await expectProblem(await s.api('POST', '/v1/customers', big), 413)
  })
})
