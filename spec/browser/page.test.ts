/**
 * The demo page in real Chromium (Debian's, through playwright-core): it loads, runs each bundled
 * model with a d4 or hflip policy with the kernels on the js backend and on gpujs (WebGL2 and
 * WebGPU), the model on onnxruntime-web's WebAssembly and WebGPU providers, and every result equals
 * what the Node library (onnxruntime-node, js backend) computes on the same input, within float32
 * tolerance. Bad input (an image that does not decode, a file that is not a model, a browser
 * without WebGL2 and WebGPU) gets a visible message and a fallback. Any console error or uncaught
 * exception fails the test; the screenshots must not be blank.
 *
 * Chromium here offers WebGL2 and WebGPU on SwiftShader (software): these tests check what runs
 * and that it is right, never how fast (that is web/bench.ts, recorded in docs/benchmarks.md).
 * Where no Chromium starts, the tests are skipped under a name that says why.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { orThrow, parsePolicy, tensor, wrap } from '../../src/index.js'
import { onnx, textdet } from '../../src/node.js'
import { screenshotVariety, serve, startBrowser, watchConsole, type Started } from '../../web/chromium.node.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const started: Started = await startBrowser()
const skipReason = started.browser === undefined ? started.reason : undefined
if (skipReason !== undefined) console.warn(`browser tests skipped: ${skipReason}`)

interface Summary {
  readonly task: string
  readonly runtime: string
  readonly backend: string
  readonly views: number
  readonly input: { readonly shape: readonly number[]; readonly data: string }
  readonly output: { readonly shape: readonly number[]; readonly data: string }
  readonly detections: number
  readonly messages: readonly { readonly level: string; readonly text: string }[]
}

/** A run's summary as the page returns it, checked (it crosses from the browser as JSON). */
const isSummary = (value: unknown): value is Summary => {
  const get = (o: unknown, k: string): unknown => (typeof o === 'object' && o !== null ? Reflect.get(o, k) : undefined)
  const tensorLike = (o: unknown): boolean => Array.isArray(get(o, 'shape')) && typeof get(o, 'data') === 'string'
  return typeof get(value, 'runtime') === 'string' && typeof get(value, 'backend') === 'string' && typeof get(value, 'views') === 'number'
    && tensorLike(get(value, 'input')) && tensorLike(get(value, 'output')) && Array.isArray(get(value, 'messages'))
}

/** Runs the demo in a page through its `window.ttaDemo` (the page's own code: no DOM types needed here). */
const runIn = async (target: Page, options: Record<string, string | number>): Promise<Summary> => {
  const value: unknown = await target.evaluate(`window.ttaDemo.run(${JSON.stringify(options)})`)
  if (!isSummary(value)) throw new Error(`the page returned no run summary: ${JSON.stringify(value).slice(0, 300)}`)
  return value
}

const floats = (base64: string): Float32Array => {
  const bytes = Buffer.from(base64, 'base64')
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
}

/** Largest |a − b| / (1 + |b|): float32 tolerance for values of any size. */
const relDiff = (a: Float32Array, b: Float32Array): number => {
  if (a.length !== b.length) return Infinity
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? Number.NaN) - (b[i] ?? Number.NaN)) / (1 + Math.abs(b[i] ?? 0)))
  return m
}

const fashionSpec = { inputs: { image: ['N', 1, 28, 28] }, outputs: { logits: ['N', 10] } } as const

/** What the Node library computes on the page's own input. */
const nodeResult = async (summary: Summary, modelId: string, policy: string): Promise<Float32Array> => {
  const input = orThrow(tensor(summary.input.shape, floats(summary.input.data)))
  const product = orThrow(parsePolicy(policy))
  if (modelId === 'ppocr_det') {
    const model = orThrow(await textdet.loadDetector({ threads: 1 })())
    const out = orThrow(await wrap.segmentation(model, product, { backend: 'js' }).run(input)())
    await model.release()
    return out.data
  }
  const model = orThrow(await onnx.load(join(root, 'assets', 'fashion-mnist', `${modelId}.onnx`), { ...fashionSpec, threads: 1 })())
  const out = orThrow(await wrap.classification(model, product, { backend: 'js' }).run(input)())
  await model.release()
  return out.data
}

let page: Page | undefined
let errors: string[] = []
let site: { readonly url: string; readonly close: () => Promise<void> } | undefined
let shots = ''

beforeAll(async () => {
  if (started.browser === undefined) return
  shots = await mkdtemp(join(tmpdir(), 'tta-lens-browser-'))
  await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'warn' })
  site = await serve(join(root, 'dist', 'web'))
  page = await started.browser.newPage({ viewport: { width: 1280, height: 900 } })
  errors = watchConsole(page)
  await page.goto(site.url)
  await page.evaluate('window.ttaDemo.ready')
}, 600_000)

afterAll(async () => {
  await started.browser?.close()
  await site?.close()
  if (shots !== '') await rm(shots, { recursive: true, force: true })
})

const runInPage = async (options: Record<string, string | number>): Promise<Summary> => {
  if (page === undefined) throw new Error('no page')
  return runIn(page, options)
}

const title = (what: string): string => (skipReason === undefined ? what : `${what} — SKIPPED: ${skipReason}`)

describe.skipIf(skipReason !== undefined)(title('the demo page in Chromium'), { timeout: 600_000 }, () => {
  it('its guards catch what they guard against: a console error, an uncaught exception, a blank screenshot', async () => {
    if (started.browser === undefined) throw new Error('no browser')
    const probe = await started.browser.newPage({ viewport: { width: 1280, height: 900 } })
    const probeErrors = watchConsole(probe)
    await probe.setContent('<body style="margin: 0; background: #fff"></body>')
    const blank = await screenshotVariety(await probe.screenshot({ fullPage: true }))
    expect(blank.colours).toBeLessThanOrEqual(2) // far below the 200 colours and stdev 20 a page screenshot must reach
    expect(blank.stdev).toBeLessThan(1)
    await probe.evaluate(`console.error('probe: an error'); setTimeout(() => { throw new Error('probe: uncaught') }, 0)`)
    await expect.poll(() => probeErrors.length).toBe(2)
    expect(probeErrors).toEqual(['console.error: probe: an error', 'uncaught: probe: uncaught'])
    await probe.close()
  })

  it('loads with its samples and controls, and no console error', async () => {
    if (page === undefined) throw new Error('no page')
    expect(await page.locator('#sample option').count()).toBeGreaterThanOrEqual(8)
    expect(await page.locator('#model option').count()).toBeGreaterThanOrEqual(2)
    expect(errors).toEqual([])
  })

  const fashionCases = [
    { model: 'cnn_aug', policy: 'd4', backend: 'js', provider: 'wasm', kernels: /^js/, runtime: /^onnxruntime-web wasm$/ },
    { model: 'cnn_aug', policy: 'd4', backend: 'gpujs:webgl2', provider: 'wasm', kernels: /^gpujs webgl2/, runtime: /^onnxruntime-web wasm$/ },
    { model: 'cnn_aug', policy: 'd4', backend: 'gpujs:webgpu', provider: 'webgpu', kernels: /^gpujs webgpu/, runtime: /^onnxruntime-web webgpu/ },
    { model: 'cnn_plain', policy: 'hflip', backend: 'js', provider: 'webgpu', kernels: /^js/, runtime: /^onnxruntime-web webgpu/ },
  ] as const
  for (const c of fashionCases) {
    it(`Fashion-MNIST ${c.model}, ${c.policy}, kernels ${c.backend}, model on ${c.provider}: equals the Node library`, async () => {
      const summary = await runInPage({ sample: 'fashion-12', model: c.model, policy: c.policy, backend: c.backend, provider: c.provider })
      expect(summary.backend).toMatch(c.kernels)
      expect(summary.runtime).toMatch(c.runtime)
      expect(summary.views).toBe(c.policy === 'd4' ? 8 : 2)
      expect(summary.output.shape).toEqual([1, 10])
      expect(relDiff(floats(summary.output.data), await nodeResult(summary, c.model, c.policy))).toBeLessThan(1e-4)
      expect(summary.messages.filter((m) => m.level !== 'info')).toEqual([])
      expect(errors).toEqual([])
    })
  }

  const textCases = [
    { backend: 'js', provider: 'wasm', kernels: /^js/, runtime: /^onnxruntime-web wasm$/ },
    { backend: 'gpujs', provider: 'webgpu', kernels: /^gpujs (webgpu|webgl2)/, runtime: /^onnxruntime-web webgpu/ },
  ] as const
  for (const c of textCases) {
    it(`PP-OCRv4 text detection, hflip, kernels ${c.backend}, model on ${c.provider}: equals the Node library`, async () => {
      // A small photo (128 px on its longer side): SwiftShader's WebGPU is slow to compile the detector's shaders.
      const summary = await runInPage({ sample: 'text-000.jpg', model: 'ppocr_det', policy: 'hflip', backend: c.backend, provider: c.provider, maxSide: 128 })
      expect(summary.backend).toMatch(c.kernels)
      expect(summary.runtime).toMatch(c.runtime)
      expect(summary.output.shape).toEqual([1, 1, 128, 128])
      expect(relDiff(floats(summary.output.data), await nodeResult(summary, 'ppocr_det', 'hflip'))).toBeLessThan(1e-4)
      expect(errors).toEqual([])
    })
  }

  it('shows views, mapped-back predictions, the merged map and the disagreement map; the screenshot is not blank', async () => {
    if (page === undefined) throw new Error('no page')
    await runInPage({ sample: 'text-004.jpg', model: 'ppocr_det', policy: 'hflip', backend: 'js', provider: 'wasm', maxSide: 256 })
    expect(await page.locator('#views canvas').count()).toBe(2)
    expect(await page.locator('#per-view canvas').count()).toBe(2)
    expect(await page.locator('#merged figcaption').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^Disagreement map: per pixel, the standard deviation/)]))
    const png = await page.screenshot({ fullPage: true })
    await writeFile(join(shots, 'demo.png'), png)
    const variety = await screenshotVariety(png)
    expect(variety.colours).toBeGreaterThan(200)
    expect(variety.stdev).toBeGreaterThan(20)
    const merged = await page.locator('#merged figure canvas').first().screenshot()
    expect((await screenshotVariety(merged)).stdev).toBeGreaterThan(5)
    expect(errors).toEqual([])
  })

  it('an image that does not decode: a visible message, and the previous input is kept', async () => {
    if (page === undefined) throw new Error('no page')
    await page.locator('#image-file').setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('this is not a PNG') })
    await expect.poll(() => page?.locator('#messages .error').allTextContents()).toEqual([expect.stringMatching(/broken\.png could not be decoded.*keeping the previous input/)])
    await page.locator('#run').click()
    await expect.poll(() => page?.locator('#summary').textContent(), { timeout: 120_000 }).toMatch(/text boxes from 2 views/)
    expect(errors).toEqual([])
  })

  it('a file that is not an ONNX model: a visible message, and the bundled models stay', async () => {
    if (page === undefined) throw new Error('no page')
    await page.locator('#model-file').setInputFiles({ name: 'notes.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('definitely not protobuf') })
    await expect.poll(() => page?.locator('#messages .error').allTextContents()).toEqual([expect.stringMatching(/notes\.onnx is not an ONNX model this page can use.*keeping the bundled models/)])
    expect(await page.locator('#model option[value="custom"]').count()).toBe(0)
    expect(errors).toEqual([])
  })

  it('a browser without WebGL2 or WebGPU: messages, and the kernels fall back to js, the model to WebAssembly', async () => {
    if (started.browser === undefined || site === undefined) throw new Error('no browser')
    const bare = await started.browser.newPage({ viewport: { width: 1280, height: 900 } })
    const bareErrors = watchConsole(bare)
    // As a browser without them: no navigator.gpu, and no WebGL contexts on any canvas.
    await bare.addInitScript(`
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true })
      for (const C of [HTMLCanvasElement, OffscreenCanvas]) {
        const original = C.prototype.getContext
        C.prototype.getContext = function (kind, ...rest) { return /webgl|webgpu/.test(kind) ? null : original.call(this, kind, ...rest) }
      }
    `)
    await bare.goto(site.url)
    await bare.evaluate('window.ttaDemo.ready')
    const summary = await runIn(bare, { sample: 'fashion-0', model: 'cnn_aug', policy: 'hflip', backend: 'gpujs', provider: 'webgpu' })
    expect(summary.backend).toMatch(/^js/)
    expect(summary.runtime).toMatch(/^onnxruntime-web wasm \(webgpu: this browser has no navigator\.gpu\)/)
    const shown = await bare.locator('#messages p').allTextContents()
    expect(shown).toEqual(expect.arrayContaining([
      expect.stringMatching(/WebGPU is not available to onnxruntime-web here; the model runs on WebAssembly/),
      expect.stringMatching(/No WebGPU or WebGL2 for gpu\.js here .*running the kernels on the js backend instead/),
    ]))
    expect((await screenshotVariety(await bare.screenshot())).colours).toBeGreaterThan(50)
    expect(bareErrors).toEqual([])
    await bare.close()
  })
})
