// The customer portal in a real browser (Debian's Chromium, test/helpers/browser.ts) on a machine
// without internet: a customer signs in with its API token, sees its own figures (equal to
// GET /v1/sla/status for it) and nothing of the other customer, watches the page update itself
// without a reload, resumes a failed run from the page and signs out (the old cookie no longer
// works). The same without JavaScript. Each page's screenshot must not be blank, and no page may
// break its Content-Security-Policy (a violation is a console error) or ask the internet for
// anything.
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import {
  chromiumAvailable,
  imageStats,
  launchBrowser,
  SCREENSHOT_DIR,
  screenshot,
  type TestBrowser,
} from '../helpers/browser.ts'
import { PORTAL_CONFIG, type PortalScene, runStatus, seedPortalScene } from '../helpers/portal-scene.ts'
import { photograph } from './support.ts'

// biome-ignore lint/suspicious/noExplicitAny: test views of JSON bodies
type Json = any

describe.skipIf(!chromiumAvailable())('the customer portal in a browser without internet', () => {
  let s: TestSteward
  let scene: PortalScene
  let browser: TestBrowser

  async function signIn(page: Page, token: string) {
    await page.goto(`${s.url}/portal/login`)
    await page.getByLabel('API token').fill(token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(`${s.url}/portal`)
  }

  async function apiStatus(token: string): Promise<Json> {
    const res = await fetch(`${s.url}/v1/sla/status`, { headers: { authorization: `Bearer ${token}` } })
    return ((await res.json()) as Json).customers[0]
  }

  beforeAll(async () => {
    s = await startTestSteward({
      listen: true,
      file: { ...PORTAL_CONFIG, portal: { ...PORTAL_CONFIG.portal, refreshSeconds: 5 } },
    })
    scene = await seedPortalScene(s)
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await s?.stop()
  })

  it('signs a customer in with its API token', async () => {
    const page = await browser.newPage()
    await page.goto(`${s.url}/portal/login`)
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Steward customer portal',
    )
    await photograph(browser, page, 'portal-login.png', 0.01)
    await page.getByLabel('API token').fill(scene.customers[0].token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(`${s.url}/portal`)
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(scene.customers[0].name)
    const cookie = (await browser.context.cookies(`${s.url}/portal`)).find(
      (c) => c.name === 'steward_portal',
    )!
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/portal' })
    // The cookie is not readable by the page's scripts.
    await expect(
      page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie),
    ).resolves.not.toContain('steward_portal')
    await page.close()
  })

  it('shows the customer its own figures, equal to GET /v1/sla/status for it, and its runs and incidents', async () => {
    const c = scene.customers[0]
    const page = await browser.newPage()
    await page.goto(`${s.url}/portal`)
    const shown = async () => ({
      uptime: await page.locator('[data-field="uptime"]').textContent(),
      success: await page.locator('[data-field="success-rate"]').textContent(),
    })
    await expect
      .poll(
        async () => {
          await page.reload()
          const api = await apiStatus(c.token)
          return {
            ...(await shown()),
            api: { uptime: `${api.uptime.percent}%`, success: `${api.success.successRate}%` },
          }
        },
        { timeout: 20_000, interval: 500 },
      )
      .toSatisfy((r: Json) => r.uptime === r.api.uptime && r.success === r.api.success)
    await expect(page.getByRole('img', { name: /^Uptime error budget left/ }).count()).resolves.toBe(1)
    await expect(page.locator(`[data-run="${c.failedRunId}"]`).count()).resolves.toBe(1)
    await expect(
      page.locator(`[data-incident="${scene.platformIncidentId}"] .estimate`).textContent(),
    ).resolves.toMatch(/^Estimated recovery: .* UTC \(in about \d+ min; our engineers’ estimate\)$/)
    await expect(page.getByRole('table', { name: /^Closed months/ }).count()).resolves.toBe(1)
    await expect(page.getByRole('region', { name: 'Spending this month' }).textContent()).resolves.toContain(
      'No monthly budget is set',
    )
    await photograph(browser, page, 'portal.png', 0.03)
    await page.close()
  })

  it('never shows the other customer’s id, name, runs, incidents or figures', async () => {
    for (const [i, me] of scene.customers.entries()) {
      const other = scene.customers[1 - i]!
      const page = await browser.newPage()
      await browser.context.clearCookies()
      await signIn(page, me.token)
      const api = await apiStatus(other.token)
      // Before and after the page has refreshed itself.
      const before = (await page.content()).toLowerCase()
      await page.locator('body[data-refreshed]').waitFor({ state: 'attached', timeout: 20_000 })
      const after = (await page.content()).toLowerCase()
      for (const text of [before, after])
        for (const secret of [
          other.id,
          other.name,
          other.failedRunId,
          other.incidentId,
          `${api.uptime.percent}%`,
        ])
          expect(text, `${me.id} sees ${secret}`).not.toContain(secret.toLowerCase())
      await page.close()
    }
  })

  it('updates itself without a reload when an incident changes', async () => {
    const page = await browser.newPage()
    await browser.context.clearCookies()
    await signIn(page, scene.customers[1].token)
    // A mark on the window: a reload would lose it. (Functions, not strings: the CSP forbids eval.)
    await page.evaluate(() => {
      ;(globalThis as unknown as { notReloaded: boolean }).notReloaded = true
    })
    const message = 'The standby control plane is taking traffic; errors are falling.'
    const res = await fetch(`${s.url}/v1/incidents/${scene.platformIncidentId}/updates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message }),
    })
    expect(res.status).toBe(201)
    await page
      .locator(`[data-incident="${scene.platformIncidentId}"]`)
      .getByText(message)
      .waitFor({ timeout: 20_000 })
    await expect(
      page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded),
    ).resolves.toBe(true)
    await expect(page.locator('#live-note').textContent()).resolves.toMatch(/^Updated: .*incidents/)
    expect(browser.errors).toEqual([])
    await page.close()
  })

  it('resumes a failed run from the page', async () => {
    const c = scene.customers[0]
    const page = await browser.newPage()
    await browser.context.clearCookies()
    await signIn(page, c.token)
    await page.getByRole('button', { name: `Resume run ${c.failedRunId}` }).click()
    await page.waitForURL(/\/portal\?resumed=/)
    await expect(page.getByRole('status').first().textContent()).resolves.toBe(
      `Run ${c.failedRunId} was resumed: the steps that did not succeed run again.`,
    )
    await expect(runStatus(s, c.failedRunId, ['succeeded'])).resolves.toBe('succeeded')
    await photograph(browser, page, 'portal-resumed.png', 0.03)
    await page.close()
  })

  it('signs out: the old session cookie no longer works', async () => {
    const page = await browser.newPage()
    await browser.context.clearCookies()
    await signIn(page, scene.customers[1].token)
    const old = (await browser.context.cookies(`${s.url}/portal`)).find((c) => c.name === 'steward_portal')!
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(`${s.url}/portal/login?signedOut`)
    await expect(page.getByText('You are signed out.').count()).resolves.toBe(1)
    const replay = await fetch(`${s.url}/portal`, {
      headers: { cookie: `steward_portal=${old.value}` },
      redirect: 'manual',
    })
    expect(replay.status).toBe(303)
    expect(replay.headers.get('location')).toBe('/portal/login')
    await page.goto(`${s.url}/portal`)
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Steward customer portal',
    )
    await page.close()
  })

  it('works without JavaScript: sign in, figures, resume, sign out', async () => {
    const c = scene.customers[1]
    const noScript = await launchBrowser({ javaScript: false })
    try {
      const page = await noScript.newPage()
      await page.goto(`${s.url}/portal/login`)
      await page.getByLabel('API token').fill(c.token)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(`${s.url}/portal`)
      const api = await apiStatus(c.token)
      await expect(page.locator('[data-field="uptime"]').textContent()).resolves.toBe(
        `${api.uptime.percent}%`,
      )
      await page.getByRole('button', { name: `Resume run ${c.failedRunId}` }).click()
      await page.waitForURL(/\/portal\?resumed=/)
      await expect(runStatus(s, c.failedRunId, ['succeeded'])).resolves.toBe('succeeded')
      const stats = await imageStats(
        browser,
        await screenshot(page, join(SCREENSHOT_DIR, 'portal-no-script.png')),
      )
      expect(stats.inked).toBeGreaterThan(0.03)
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.waitForURL(`${s.url}/portal/login?signedOut`)
      expect(noScript.offLoopback).toEqual([])
      expect(noScript.errors).toEqual([])
    } finally {
      await noScript.close()
    }
  })
})
