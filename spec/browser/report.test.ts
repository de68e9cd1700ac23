/**
 * The demo's HTML report, read in Chromium at 1280 px. A report is made here with the demo's own
 * pieces (src/cli/report.ts) from a real run — PP-OCRv4 on one evaluation photo under hflip: the
 * photo, the merged map and boxes over it, each view's map mapped back, the merged map and the
 * disagreement map — and must show its table, name its model, caption every picture, fit 1280 px
 * without scrolling sideways, and render (the screenshot is not blank). Where `npm run demo` has
 * written report/index.html (CI runs the demo first), that report gets the same checks. The
 * screenshots are left in report/ (report-1280.png, demo-report-1280.png) to look at.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { orThrow, parsePolicy, runnableViews, wrap } from '../../src/index.js'
import { textdet } from '../../src/node.js'
import { disagreement, heatPng, overlayPng, writeReport, type Section } from '../../src/cli/report.js'
import { encodePng } from '../../src/io/image.js'
import { screenshotVariety, serve, startBrowser, watchConsole, type Started } from '../../web/chromium.node.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const started: Started = await startBrowser()
const skipReason = started.browser === undefined ? started.reason : undefined

let made = ''

const ok = <A>(either: { readonly _tag: 'Left'; readonly left: { readonly message: string } } | { readonly _tag: 'Right'; readonly right: A }): A => {
  if (either._tag === 'Left') throw new Error(either.left.message)
  return either.right
}

/** A report like the demo's, from one real detection run. */
const makeReport = async (dir: string): Promise<void> => {
  const [record] = ok(await textdet.readTruth()())
  if (record === undefined) throw new Error('no evaluation image')
  const image = ok(await textdet.readImage(`${textdet.EVAL_SET_DIR}${record.file}`)())
  const prepared = orThrow(textdet.preprocess(image))
  const detector = orThrow(await textdet.loadDetector({ threads: 1 })())
  const hflip = orThrow(parsePolicy('hflip'))
  const [, , mh = 0, mw = 0] = prepared.input.shape
  const maps: Float32Array[] = []
  for (const view of runnableViews(hflip)) {
    const out = await detector(orThrow(view.augmentImage(prepared.input)))
    maps.push(orThrow(view.deaugmentMask(out, prepared.input)).data)
  }
  const merged = orThrow(await wrap.segmentation(detector, hflip).run(prepared.input)())
  await detector.release()
  const found = orThrow(textdet.boxesFromProbability(merged, { size: { width: image.width, height: image.height } })).map((d) => d.box)
  const crop = { cropHeight: image.height, cropWidth: image.width }
  const sections: Section[] = [
    {
      title: 'Text detection: one image', model: 'PP-OCRv4 det (ch_PP-OCRv4_det)', note: 'A table as the demo writes one.',
      tables: [{ caption: 'Boxes found', header: ['policy', 'views', 'boxes'], rows: [['hflip', '2', String(found.length)]], notes: ['boxes: in the merged map, at PP-OCR\'s thresholds.'] }],
      panels: [],
    },
    {
      title: `hflip on ${record.file}`, model: 'PP-OCRv4 det (ch_PP-OCRv4_det)', note: 'Pictures as the demo draws them.',
      panels: [
        { caption: `The photo ${record.file}.`, png: await encodePng(Uint8Array.from(image.data), image.height, image.width, 3), size: 'wide' },
        { caption: 'The merged map over the photo, boxes found (magenta) and true lines (green).', size: 'wide',
          png: await overlayPng(Uint8Array.from(image.data), image.height, image.width, { mask: merged.data, maskWidth: mw, boxes: [...record.lines.map((l) => ({ box: l.box, kind: 'truth' as const })), ...found.map((box) => ({ box, kind: 'found' as const }))] }) },
        ...await Promise.all(maps.map(async (m, v) => ({ caption: `View ${v}: its text probability, mapped back.`, png: await heatPng(m, mh, mw, crop) }))),
        { caption: 'Merged: the mean of the two maps.', png: await heatPng(merged.data, mh, mw, crop) },
        { caption: 'Disagreement: per-pixel standard deviation across the views.', png: await heatPng(disagreement(maps), mh, mw, { ...crop, hi: 0.25 }) },
      ],
    },
  ]
  orThrow(await writeReport(dir, 'tta-lens report (test)', 'Made by spec/browser/report.test.ts with the demo\'s report code.', sections))
}

let browser: Browser | undefined

beforeAll(async () => {
  if (started.browser === undefined) return
  browser = started.browser
  made = await mkdtemp(join(tmpdir(), 'tta-lens-report-'))
  await makeReport(made)
}, 300_000)

afterAll(async () => {
  await started.browser?.close()
  if (made !== '') await rm(made, { recursive: true, force: true })
})

/** Opens a report at 1280 px and checks what a reader needs; returns the full-page screenshot. */
const readAt1280 = async (dir: string): Promise<Buffer> => {
  if (browser === undefined) throw new Error('no browser')
  const site = await serve(dir)
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  const errors = watchConsole(page)
  try {
    await page.goto(site.url)
    await page.waitForLoadState('load')
    // Every picture loads and has a caption; every section names its model.
    const images: unknown = await page.evaluate(`Promise.all([...document.images].map((img) => img.decode().then(() => ({ w: img.naturalWidth, caption: img.closest('figure')?.querySelector('figcaption')?.textContent ?? '' }), () => ({ w: 0, caption: '' }))))`)
    expect(Array.isArray(images) && images.length > 0).toBe(true)
    for (const image of Array.isArray(images) ? images : []) {
      expect(Reflect.get(image, 'w')).toBeGreaterThan(0)
      expect(String(Reflect.get(image, 'caption')).length).toBeGreaterThan(10)
    }
    const sections = await page.locator('section').count()
    expect(await page.locator('section p.model').count()).toBe(sections)
    expect(await page.locator('table tbody tr').count()).toBeGreaterThan(0)
    // Readable at 1280 px: nothing forces a sideways scroll.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280)
    const png = await page.screenshot({ fullPage: true })
    const variety = await screenshotVariety(png)
    expect(variety.width).toBe(1280)
    expect(variety.colours).toBeGreaterThan(500)
    expect(variety.stdev).toBeGreaterThan(20)
    expect(errors).toEqual([])
    return png
  } finally {
    await page.close()
    await site.close()
  }
}

describe.skipIf(skipReason !== undefined)(skipReason === undefined ? 'the HTML report in Chromium at 1280 px' : `the HTML report in Chromium — SKIPPED: ${skipReason}`, { timeout: 300_000 }, () => {
  it('a report made with the demo\'s code: tables, models, captions, overlays, readable at 1280 px', async () => {
    const png = await readAt1280(made)
    await mkdir(join(root, 'report'), { recursive: true })
    await writeFile(join(root, 'report', 'report-1280.png'), png)
  })

  it.skipIf(!existsSync(join(root, 'report', 'index.html')))('the report npm run demo wrote (report/index.html)', async () => {
    const png = await readAt1280(join(root, 'report'))
    await writeFile(join(root, 'report', 'demo-report-1280.png'), png)
  })
})
