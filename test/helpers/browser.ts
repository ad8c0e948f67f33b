// A real browser for tests and screenshots: Debian's Chromium (/usr/bin/chromium) driven by
// playwright-core. Never a downloaded browser. `.ci/run` installs Chromium with apt.
//
// - Chromium absent: browser tests skip with a message, unless CI=true, where they fail.
// - Every request the page makes to anything but loopback is refused and recorded
//   (`offLoopback`), so a test can assert that a page needs nothing from the internet.
// - Each launch has a fresh profile (--user-data-dir), removed on close.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'

export const CHROMIUM = process.env.STEWARD_CHROMIUM ?? '/usr/bin/chromium'

/** Flags for a closed network: without the background-networking ones Chromium's own calls fail loudly. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Where tests keep their screenshots (gitignored). */
export const SCREENSHOT_DIR = join(
  dirname(new URL(import.meta.url).pathname),
  '..',
  'browser',
  '.screenshots',
)

/**
 * Whether browser tests can run here. Without Chromium: false (and a message saying how to get
 * it), or an error when CI=true, since CI must run them.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true
  const message = `Chromium not found at ${CHROMIUM}: install it with 'apt-get install -y chromium'`
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: browser tests must run)`)
  console.warn(`skipping browser tests: ${message}`)
  return false
}

const loopback = (url: URL) =>
  url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname)

export interface TestBrowser {
  context: BrowserContext
  /** Every request the pages tried to send off loopback (refused). */
  offLoopback: string[]
  /** Console errors and page errors of every page. */
  errors: string[]
  newPage(): Promise<Page>
  close(): Promise<void>
}

export async function launchBrowser(
  opts: { width?: number; height?: number; javaScript?: boolean } = {},
): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'steward-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
    // false: a browser with JavaScript switched off (pages must work without it).
    javaScriptEnabled: opts.javaScript ?? true,
    // Tests run as root, where Chromium's sandbox cannot start (--no-sandbox above).
    chromiumSandbox: false,
  })
  const offLoopback: string[] = []
  const errors: string[] = []
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url())
    if (
      url.protocol === 'data:' ||
      url.protocol === 'blob:' ||
      (/^(http|ws)s?:$/.test(url.protocol) && loopback(url))
    )
      return route.continue()
    offLoopback.push(url.href)
    return route.abort('blockedbyclient')
  })
  const watch = (page: Page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text())
    })
    page.on('pageerror', (e) => errors.push(e.message))
  }
  context.on('page', watch)
  return {
    context,
    offLoopback,
    errors,
    newPage: () => context.newPage(),
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

export interface ImageStats {
  width: number
  height: number
  /** Distinct colours (a blank page has one). */
  colours: number
  /** Share of pixels that differ from the most common colour (the background). */
  inked: number
}

interface PageGlobals {
  Image: new () => { src: string; width: number; height: number; decode(): Promise<void> }
  document: {
    createElement(tag: 'canvas'): {
      width: number
      height: number
      getContext(kind: '2d'): {
        drawImage(image: unknown, x: number, y: number): void
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray }
      } | null
    }
  }
}

/** Decodes a PNG in the browser (a canvas) and measures how much is drawn on it. */
export async function imageStats(browser: TestBrowser, png: Buffer): Promise<ImageStats> {
  const page = await browser.newPage()
  try {
    return await page.evaluate(
      async (dataUrl) => {
        // Runs in the page; tsconfig has no DOM library, so the few globals used are typed here.
        const { Image, document } = globalThis as unknown as PageGlobals
        const img = new Image()
        img.src = dataUrl
        await img.decode()
        const canvas = document.createElement('canvas')
        canvas.width = img.width
        canvas.height = img.height
        const g = canvas.getContext('2d')!
        g.drawImage(img, 0, 0)
        const px = g.getImageData(0, 0, img.width, img.height).data
        const counts = new Map<number, number>()
        for (let i = 0; i < px.length; i += 4) {
          const c = (px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!
          counts.set(c, (counts.get(c) ?? 0) + 1)
        }
        const total = px.length / 4
        const background = Math.max(...counts.values())
        return {
          width: img.width,
          height: img.height,
          colours: counts.size,
          inked: (total - background) / total,
        }
      },
      `data:image/png;base64,${png.toString('base64')}`,
    )
  } finally {
    await page.close()
  }
}

/** Takes a screenshot (the full page unless told) into `file`, creating directories, and returns the PNG. */
export async function screenshot(
  page: Page,
  file: string,
  opts: { fullPage?: boolean } = {},
): Promise<Buffer> {
  const png = await page.screenshot({ fullPage: opts.fullPage ?? true, type: 'png' })
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, png)
  return png
}
