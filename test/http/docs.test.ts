// GET /docs without internet: the page and every asset it names come from this server (the
// browser test in test/browser/ opens it in Chromium with the network closed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'

let s: TestSteward
beforeAll(async () => {
  s = await startTestSteward()
})
afterAll(async () => {
  await s?.stop()
})

describe('GET /docs', () => {
  it('names only assets of this server, and serves each of them', async () => {
    const res = await s.api('GET', '/docs', undefined, null)
    expect(res.status).toBe(200)
    const page = await res.text()
    expect(page).not.toMatch(/https?:\/\//)
    const assets = [...page.matchAll(/(?:src|href)="(\/docs\/assets\/[^"]+)"/g)].map((m) => m[1]!)
    expect(assets.map((a) => a.split('/').at(-1)).sort()).toEqual([
      'start.js',
      'swagger-ui-bundle.js',
      'swagger-ui.css',
    ])
    for (const a of assets) {
      const asset = await s.api('GET', a, undefined, null)
      expect(asset.status, a).toBe(200)
      expect(asset.headers.get('cache-control')).toContain('immutable')
      expect((await asset.text()).length).toBeGreaterThan(a.endsWith('start.js') ? 100 : 10_000)
    }
    // Swagger UI's validator badge would call validator.swagger.io: it is off.
    const start = await (
      await s.api('GET', assets.find((a) => a.endsWith('start.js'))!, undefined, null)
    ).text()
    expect(start).toContain('validatorUrl: null')
    expect(start).toContain("url: '/openapi.json'")
  })

  it('forbids the page to load anything from elsewhere (Content-Security-Policy)', async () => {
    const csp = (await s.api('GET', '/docs', undefined, null)).headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'none'")
    for (const directive of ['script-src', 'connect-src', 'style-src', 'img-src', 'font-src'])
      expect(csp).toMatch(new RegExp(`${directive} 'self'`))
  })

  it('answers 404 for an asset it does not have, or of another version', async () => {
    const page = await (await s.api('GET', '/docs', undefined, null)).text()
    const version = /\/docs\/assets\/([^/]+)\//.exec(page)![1]!
    expect((await s.api('GET', `/docs/assets/${version}/package.json`, undefined, null)).status).toBe(404)
    expect((await s.api('GET', `/docs/assets/${version}/..%2Fpackage.json`, undefined, null)).status).toBe(
      404,
    )
    expect((await s.api('GET', '/docs/assets/0.0.1/swagger-ui.css', undefined, null)).status).toBe(404)
  })
})
