// Regenerates the screenshots of docs/customers.md (npm run screenshots): starts a Steward on
// embedded engines in a temporary data dir, gives it a history (test/helpers/status-scene.ts),
// and photographs /status and /docs in Debian's Chromium (test/helpers/browser.ts) with every
// request off loopback refused. Writes docs/img/status.png and docs/img/api-docs.png.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLogger } from '../src/log.ts'
import { loadConfig, startSteward } from '../src/server/index.ts'
import { CHROMIUM, launchBrowser, screenshot } from '../test/helpers/browser.ts'
import { SCENE_CONFIG, seedStatusScene } from '../test/helpers/status-scene.ts'

const img = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'img')
const dataDir = mkdtempSync(join(tmpdir(), 'steward-screenshots-'))
const config = loadConfig(
  { STEWARD_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
  SCENE_CONFIG,
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
    if (browser.offLoopback.length)
      throw new Error(`requests left the machine: ${browser.offLoopback.join(', ')}`)
  } finally {
    await browser.close()
  }
} finally {
  await steward.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
