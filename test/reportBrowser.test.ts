// The HTML report in a real browser: Debian's chromium, headless, offline, with a fresh profile.
// Every chart must be drawn (an <svg> with a box on the page, marks with a non-zero box), which a
// file that only exists, or a chart with nothing in it, would not pass. In CI (CI=true) a missing
// chromium is a failure; on a developer's machine without it the test is skipped, saying so.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from './built'
import { cli, tmpDir } from './helpers'

const CHROMIUM = '/usr/bin/chromium'
const present = fs.existsSync(CHROMIUM)
const inCi = process.env.CI === 'true'
if (!present && !inCi)
  console.warn(`test/reportBrowser.test.ts: skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it in CI, where this test fails without it)`)

describe.skipIf(!present && !inCi)('the HTML report in headless Chromium', () => {
  let browser: BrowserContext
  let dir: string

  beforeAll(async () => {
    expect(fs.existsSync(CHROMIUM), `${CHROMIUM} is required in CI (.ci/run installs it)`).toBe(true)
    dir = tmpDir()
    // A fresh profile (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
  })

  const reportOf = async (workload: string, extra: string[] = []): Promise<string> => {
    const db = path.join(dir, `${path.basename(workload, '.json')}.db`)
    const run = await cli('run', '--db', db, '--workload', path.join(ROOT, 'workloads', workload), '--no-progress', ...extra)
    expect(run.code).toBeLessThan(2)
    const out = path.join(dir, `${path.basename(workload, '.json')}.html`)
    expect((await cli('report', '--db', db, '--out', out)).code).toBeLessThan(2)
    return out
  }

  for (const [workload, sections] of [
    ['gph-discard-list.json', ['provenance', 'buddy', 'hinting', 'invariants']],
    ['anon-vma-fork.json', ['provenance', 'buddy', 'rmap', 'invariants']],
    ['hot-remove.json', ['provenance', 'buddy', 'rmap', 'isolation', 'invariants']],
    ['aeration.json', ['provenance', 'buddy', 'reporting', 'invariants']],
  ] as const)
    it(`${workload}: every chart is drawn, with marks of non-zero size, and no request leaves the page`, async () => {
      const file = await reportOf(workload)
      const page = await browser.newPage()
      const requests: string[] = []
      page.on('request', (r) => requests.push(r.url()))
      await page.goto(`file://${file}`)
      for (const id of sections) expect(await page.locator(`section#${id}`).count()).toBe(1)
      const charts = await page.locator('svg.chart').all()
      expect(charts.length).toBeGreaterThanOrEqual(3)
      for (const chart of charts) {
        const box = await chart.boundingBox()
        expect(box).not.toBeNull()
        expect(box!.width).toBeGreaterThan(100)
        expect(box!.height).toBeGreaterThan(100)
        // The largest mark: a bar or line the browser actually laid out.
        const sizes = await chart.locator('.mark').evaluateAll((els) => els.map((e) => (e as SVGGraphicsElement).getBBox()).map((b) => Math.max(b.width, b.height)))
        expect(sizes.length, `${await chart.locator('title').first().textContent()}`).toBeGreaterThan(0)
        expect(Math.max(...sizes)).toBeGreaterThan(5)
      }
      // The mechanism sections draw their own charts (the reported share over time, the outcomes).
      for (const id of sections.filter((x) => x === 'reporting' || x === 'isolation')) expect(await page.locator(`section#${id} svg.chart .mark`).count(), id).toBeGreaterThan(0)
      if (sections.some((x) => x === 'reporting'))
        expect(await page.locator('section#reporting svg.chart title', { hasText: 'Share of reportable free memory reported' }).count()).toBe(1)
      // Printable: the print layout has the same charts.
      const pdf = await page.pdf({ format: 'A4' })
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([])
      await page.close()
    }, 60_000)
})
