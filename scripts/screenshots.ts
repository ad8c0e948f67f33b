// Regenerates the screenshots of docs/customers.md (npm run screenshots): starts a Steward on
// embedded engines in a temporary data dir, gives it a history (test/helpers/status-scene.ts,
// then two portal customers from test/helpers/portal-scene.ts), and photographs /status, /docs and
// the customer portal (sign-in and a customer's dashboard) in Debian's Chromium
// (test/helpers/browser.ts) with every request off loopback refused. Writes docs/img/status.png,
// docs/img/api-docs.png, docs/img/portal-login.png and docs/img/portal.png.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BudgetsModule } from '../src/budgets/index.ts'
import { createLogger } from '../src/log.ts'
import { loadConfig, startSteward } from '../src/server/index.ts'
import { CHROMIUM, launchBrowser, screenshot } from '../test/helpers/browser.ts'
import { PORTAL_CONFIG, seedPortalScene } from '../test/helpers/portal-scene.ts'
import { seedStatusScene } from '../test/helpers/status-scene.ts'

const img = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'img')
const dataDir = mkdtempSync(join(tmpdir(), 'steward-screenshots-'))
const config = loadConfig(
  { STEWARD_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
  // The status scene's settings, with the portal customers' plans, and a model's price (budgets).
  {
    ...PORTAL_CONFIG,
    prices: {
      currency: 'USD',
      models: [{ model: 'gpt-x', effectiveFrom: '2020-01-01', inputPerMillion: 2, outputPerMillion: 8 }],
    },
  },
)
const steward = await startSteward({
  config,
  scheduler: false,
  onAdminTokenGenerated: () => {},
  log: createLogger('warn'),
})
try {
  await seedStatusScene(steward, { servedDays: 60 })
  const browser = await launchBrowser({ width: 1100, height: 900 }).catch((err: Error) => {
    throw new Error(`cannot start ${CHROMIUM} (apt-get install -y chromium): ${err.message}`)
  })
  try {
    const page = await browser.newPage()
    await page.goto(`${steward.url}/status`)
    await screenshot(page, join(img, 'status.png'))
    process.stdout.write('wrote docs/img/status.png\n')
    await page.goto(`${steward.url}/docs`)
    await page.locator('.opblock').first().waitFor()
    // The top of the reference: one screen, not the whole list.
    await screenshot(page, join(img, 'api-docs.png'), { fullPage: false })
    process.stdout.write('wrote docs/img/api-docs.png\n')

    // The portal: the status scene's heartbeats are the factory's history.
    const portal = await seedPortalScene(steward, { heartbeats: false })
    // The first customer's budgets: 82.00 USD of AI tokens spent today (80% of its AI budget crossed).
    const first = portal.customers[0]
    await steward.fetch(
      new Request(`${steward.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${steward.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify([
          {
            eventId: 'screenshot-usage',
            ts: new Date(Date.now() - 60_000).toISOString(),
            type: 'usage',
            customerId: first.id,
            runId: 'screenshot-run',
            model: 'gpt-x',
            inputTokens: 25_000_000,
            outputTokens: 4_000_000,
          },
        ]),
      }),
    )
    await steward.fetch(
      new Request(`${steward.url}/v1/customers/${first.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${steward.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ settings: { budget: { aiTokens: 100, total: 250, action: 'pause' } } }),
      }),
    )
    const budgets = steward.modules.find((m) => m.name === 'budgets') as BudgetsModule
    // The relay takes the usage to ClickHouse within a moment; the evaluation then records 50 and 80%.
    for (let i = 0; i < 50 && (await budgets.evaluate()).crossed < 2; i++)
      await new Promise((r) => setTimeout(r, 200))
    await page.goto(`${steward.url}/portal/login`)
    await screenshot(page, join(img, 'portal-login.png'), { fullPage: false })
    process.stdout.write('wrote docs/img/portal-login.png\n')
    await page.getByLabel('API token').fill(portal.customers[0].token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(`${steward.url}/portal`)
    await screenshot(page, join(img, 'portal.png'))
    process.stdout.write('wrote docs/img/portal.png\n')
    if (browser.offLoopback.length)
      throw new Error(`requests left the machine: ${browser.offLoopback.join(', ')}`)
  } finally {
    await browser.close()
  }
} finally {
  await steward.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
