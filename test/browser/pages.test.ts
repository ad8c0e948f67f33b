// The pages a person opens, in a real browser (Debian's Chromium, test/helpers/browser.ts) on a
// machine without internet: every request off loopback is refused and recorded. /docs lists the
// API's operations; /status shows components, an open incident with its estimate, and the uptime
// bars. Each page's screenshot is saved (test/browser/.screenshots) and must not be blank.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { chromiumAvailable, launchBrowser, type TestBrowser } from '../helpers/browser.ts'
import { SCENE_CONFIG, type StatusScene, seedStatusScene } from '../helpers/status-scene.ts'
import { photograph } from './support.ts'

describe.skipIf(!chromiumAvailable())('in a browser without internet', () => {
  let s: TestSteward
  let scene: StatusScene
  let browser: TestBrowser

  /** Saves the page's screenshot, checks it is not blank, and that the page asked nothing of the internet. */
  async function photographAndClose(page: Page, name: string) {
    await photograph(browser, page, name)
    await page.close()
  }

  beforeAll(async () => {
    // A listening server: the browser talks HTTP to it on loopback.
    s = await startTestSteward({ listen: true, file: SCENE_CONFIG })
    scene = await seedStatusScene(s)
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await s?.stop()
  })

  it('refuses and records any request off loopback (the harness itself)', async () => {
    const page = await browser.newPage()
    // .invalid never resolves, and the request is refused before any lookup.
    await page.setContent('<img alt="" src="https://cdn.example.invalid/logo.png">')
    await expect.poll(() => browser.offLoopback).toEqual(['https://cdn.example.invalid/logo.png'])
    await page.close()
    browser.offLoopback.length = 0
    browser.errors.length = 0
  })

  it('/docs lists the API operations, with no request leaving the machine', async () => {
    const page = await browser.newPage()
    await page.goto(`${s.url}/docs`)
    const operations = page.locator('.opblock-summary-path')
    await operations.first().waitFor()
    const paths = await operations.allInnerTexts()
    expect(paths.map((p) => p.replace(/\u200b/g, ''))).toEqual(
      expect.arrayContaining(['/v1/runs', '/v1/incidents/{id}/updates', '/v1/status']),
    )
    expect(await page.locator('.opblock').count()).toBeGreaterThan(30)
    await photographAndClose(page, 'docs.png')
  })

  it('/status shows the components, the open incident with its estimate, and 90 uptime bars', async () => {
    const page = await browser.newPage()
    await page.goto(`${s.url}/status`)
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Steward status')
    await expect(page.getByRole('status').textContent()).resolves.toBe('Some systems are unavailable')
    const component = (id: string) => page.locator(`[data-component="${id}"] .state`).textContent()
    await expect(component('api')).resolves.toBe('Outage')
    await expect(component('pool:gpu')).resolves.toBe('Outage')
    await expect(component('telemetry')).resolves.toBe('Operational')
    const incident = page.locator(`[data-incident="${scene.probeIncidentId}"]`)
    await expect(incident.locator('.estimate time').getAttribute('datetime')).resolves.toBe(scene.estimate)
    await expect(incident.locator('.estimate').textContent()).resolves.toMatch(
      /^Estimated recovery: .* UTC \(in about 2\d min;/,
    )
    const bars = page.getByRole('img', { name: 'Daily uptime, last 90 days' })
    await expect(bars.locator('rect').count()).resolves.toBe(90)
    await expect(
      bars.locator(`rect[data-day="${scene.outageDay}"]`).getAttribute('data-state'),
    ).resolves.toBe('outage')
    const box = await bars.boundingBox()
    expect(box!.width).toBeGreaterThan(600)
    await photographAndClose(page, 'status.png')
  })
})
