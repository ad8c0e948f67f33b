// Shared by the browser tests: a page's screenshot, saved and checked for content.
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { imageStats, SCREENSHOT_DIR, screenshot, type TestBrowser } from '../helpers/browser.ts'

/**
 * Saves the page's screenshot (test/browser/.screenshots/`name`) and checks that it is not blank
 * (`inked`: the least share of drawn pixels), that no page asked anything of the internet and that
 * none logged an error (a CSP violation is one).
 */
export async function photograph(browser: TestBrowser, page: Page, name: string, inked = 0.05) {
  const stats = await imageStats(browser, await screenshot(page, join(SCREENSHOT_DIR, name)))
  expect(stats.colours).toBeGreaterThan(50)
  expect(stats.inked).toBeGreaterThan(inked)
  expect(browser.offLoopback).toEqual([])
  expect(browser.errors).toEqual([])
}
