/**
 * In the browser: the demo page in Debian's Chromium (headless, through playwright-core). Its own
 * benchmark (web/bench.ts, the page's "Benchmark this browser" button) gives the d4 augment of
 * 1×3×512×512 on the js and gpujs backends and unetish_512 on onnxruntime-web's WebAssembly and
 * WebGPU providers; this section also times loading the page and one d4 classification, and
 * records the browser build's sizes. The page prints the same table on any machine.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { serve, startBrowser } from '../../web/chromium.node.js'
import { buildTypicalUse, closure, readChunks } from '../../web/sizes.node.js'
import { code, commandLine, ms, table, type SectionResult } from '../lib/report.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const KB = (bytes: number): string => `${(bytes / 1000).toFixed(1)} KB`

interface PageRow { readonly what: string; readonly ranOn: string; readonly ms: number; readonly runs: number; readonly ratio: string }

const get = (o: unknown, k: string): unknown => (typeof o === 'object' && o !== null ? Reflect.get(o, k) : undefined)
const isRow = (r: unknown): r is PageRow => typeof get(r, 'what') === 'string' && typeof get(r, 'ms') === 'number'

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? Number.NaN) + (s[m] ?? Number.NaN)) / 2
}

/** Sizes of the browser build (web/vite.lib.config.ts) and of the demo page's own assets. */
const sizes = async (): Promise<string> => {
  const out = await mkdtemp(join(tmpdir(), 'tta-lens-bench-bundle-'))
  const typicalOut = await mkdtemp(join(tmpdir(), 'tta-lens-bench-typical-'))
  try {
    await build({ configFile: join(root, 'web', 'vite.lib.config.ts'), logLevel: 'warn', build: { outDir: out } })
    await buildTypicalUse(root, typicalOut)
    const chunks = await readChunks(out)
    const core = closure(chunks, 'tta-lens.js')
    const typical = closure(await readChunks(typicalOut), 'typical.js')
    const web = chunks.get('tta-lens-web.js')
    const gpu = [...chunks.values()].find((c) => c.file.startsWith('gpu-browser'))
    const page = await readChunks(join(root, 'dist', 'web', 'assets'))
    const pageJs = [...page.values()].filter((c) => !c.file.startsWith('gpu-browser'))
    const wasmFiles = (await readdir(join(root, 'dist', 'web', 'assets'))).filter((f) => f.endsWith('.wasm'))
    const wasmBytes = (await Promise.all(wasmFiles.map((f) => stat(join(root, 'dist', 'web', 'assets', f))))).reduce((a, s) => a + s.size, 0)
    return table(['what', 'minified', 'gzipped', 'budget (gzipped)'], [
      ['`tta-lens`, every export, the law kit and fast-check included (web/vite.lib.config.ts)', KB(core.bytes), KB(core.gzip), '160 KB'],
      ['a typical use, tree-shaken: `wrap.segmentation` + `aliases.d4()` + tensors (spec/package/fixtures/typical-use.ts)', KB(typical.bytes), KB(typical.gzip), '50 KB'],
      ['`tta-lens/web`, its own code (onnxruntime-web not included)', KB(web?.bytes ?? 0), KB(web?.gzip ?? 0), '4 KB'],
      ['gpu.js, a chunk the gpujs backend loads on first use', KB(gpu?.bytes ?? 0), KB(gpu?.gzip ?? 0), '— (third party)'],
      ['the demo page\'s JavaScript, onnxruntime-web included, gpu.js not', KB(pageJs.reduce((a, c) => a + c.bytes, 0)), KB(pageJs.reduce((a, c) => a + c.gzip, 0)), '—'],
      ['onnxruntime-web\'s WebAssembly (loaded with the first model)', KB(wasmBytes), '—', '—'],
    ], ['l', 'r', 'r', 'l'])
  } finally {
    for (const dir of [out, typicalOut]) await rm(dir, { recursive: true, force: true })
  }
}

export const browserSection = async (quick: boolean): Promise<SectionResult> => {
  await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'warn' })
  const started = await startBrowser()
  if (started.browser === undefined) {
    return { markdown: `No browser: ${started.reason}. ${commandLine('browser')}`, targets: [], analysis: [] }
  }
  const site = await serve(join(root, 'dist', 'web'))
  try {
    const browser = started.browser
    // Loading the page and one d4 classification (cnn_aug, js kernels, WebAssembly), each in a fresh
    // context (empty cache): to ready, the first run (which loads the model and onnxruntime-web's
    // WebAssembly), and a second run.
    const loads: number[] = []
    const firsts: number[] = []
    const seconds: number[] = []
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      const page = await context.newPage()
      await page.goto(site.url)
      const ready: unknown = await page.evaluate('window.ttaDemo.ready')
      loads.push(typeof ready === 'number' ? ready : Number.NaN)
      const options = JSON.stringify({ sample: 'fashion-0', model: 'cnn_aug', policy: 'd4', backend: 'js', provider: 'wasm' })
      for (const into of [firsts, seconds]) {
        const t0 = performance.now()
        await page.evaluate(`window.ttaDemo.run(${options})`)
        into.push(performance.now() - t0)
      }
      await context.close()
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(site.url)
    await page.evaluate('window.ttaDemo.ready')
    const raw: unknown = await page.evaluate('window.ttaDemo.bench()')
    const rows = Array.isArray(raw) ? raw.filter(isRow) : []
    const gpus: unknown = await page.evaluate("document.getElementById('messages').textContent")
    const version = browser.version()
    await page.close()
    const benchTable = table(['what', 'ran on', 'median ms', 'runs', 'ratio to the first row of its part'], rows.map((r) => [r.what, r.ranOn, ms(r.ms), String(r.runs), r.ratio]), ['l', 'l', 'r', 'r', 'r'])
    const loadTable = table(['', 'median ms', 'runs'], [
      ['page load to ready (navigation start → `ttaDemo.ready`)', ms(median(loads)), String(loads.length)],
      ['first d4 classification (cnn_aug, 8 views, js kernels, WebAssembly), incl. loading the model and onnxruntime-web', ms(median(firsts)), String(firsts.length)],
      ['the same classification again (warm)', ms(median(seconds)), String(seconds.length)],
    ], ['l', 'r', 'r'])
    const augmentJs = rows.find((r) => r.what === 'd4 augment, js backend')
    const augmentGl = rows.find((r) => r.what === 'd4 augment, gpujs webgl2')
    const wasmPass = rows.find((r) => r.what.startsWith('unetish_512, one pass') && r.ranOn.startsWith('onnxruntime-web wasm'))
    const gpuPass = rows.find((r) => r.what.startsWith('unetish_512, one pass') && r.ranOn.startsWith('onnxruntime-web webgpu'))
    const markdown = [
      `Chromium ${version} (Debian's, ${code(started.executable)}), headless, through playwright-core; ${String(gpus ?? '').replace(/^Benchmarking:.*?…/, '').trim()}`,
      '**Both GPUs here are software (SwiftShader on the CPU)**: these rows say what runs and that it runs, not what a GPU buys. A hardware GPU is the case to measure when one is at hand — open the demo page there (`npm run serve`) and press "Benchmark this browser": it prints this table.',
      '',
      benchTable,
      '',
      loadTable,
      '',
      'The browser build (minified, gzipped at level 9, without models; `spec/package/bundle.test.ts` holds the budgets):',
      '',
      await sizes(),
      '',
      `${commandLine('browser')} The page's own benchmark is web/bench.ts: every candidate runs once to warm up (kernels compile, shaders build), then rounds interleave the candidates; the augment outputs of all backends, and the masks of both providers, are checked equal before any timing.`,
    ].join('\n')
    const analysis = augmentJs === undefined || augmentGl === undefined || wasmPass === undefined ? [] : [
      `**Browser (software GPUs).** In Chromium on this machine the d4 augment of 1×3×512×512 takes ${ms(augmentJs.ms)} ms on the js backend and ${ms(augmentGl.ms)} ms on gpujs over WebGL2 (SwiftShader), ${(augmentGl.ms / augmentJs.ms).toFixed(1)}× the js time: on a software GPU the GL path only adds uploads, a draw and a read-back per view. unetish_512 takes ${ms(wasmPass.ms)} ms a pass on onnxruntime-web's WebAssembly${gpuPass === undefined ? ' (WebGPU did not run)' : ` and ${ms(gpuPass.ms)} ms on its WebGPU provider (SwiftShader's fallback adapter)`}. Loading the demo page takes ${ms(median(loads))} ms to ready; the first d4 classification, which also loads onnxruntime-web's 28 MB WebAssembly, ${ms(median(firsts))} ms, and ${ms(median(seconds))} ms once warm. Measured on the shared machine described above; the ratios, not the milliseconds, are what carries over — and not to hardware GPUs.`,
    ]
    return { markdown, targets: [], analysis }
  } finally {
    await started.browser.close()
    await site.close()
  }
}
