/**
 * What the browser tests (spec/browser) and the browser benchmark (bench/sections/browser.ts) share: Debian's Chromium driven by playwright-core (never a downloaded
 * browser), a static server on loopback with the headers the demo page needs, and a check that a
 * screenshot is not blank.
 *
 * Chromium is looked for at $CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser. Where
 * none is found or none starts, `startBrowser` says why and the tests that need it are skipped
 * under a name that carries the reason; `.ci/run` installs Debian's chromium with apt.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'
import sharp from 'sharp'
import { chromium, type Browser, type Page } from 'playwright-core'

/** Flags: headless, no sandbox (CI runs as root), WebGPU on, and no background network traffic (the machine has no network). */
export const CHROMIUM_FLAGS = [
  '--headless=new', '--no-sandbox', '--enable-unsafe-webgpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  '--disable-default-apps', '--disable-extensions', '--metrics-recording-only', '--no-default-browser-check',
]

const candidates = (): readonly string[] => [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => p !== undefined && p !== '')

/** A started browser, or why there is none. */
export type Started = { readonly browser: Browser; readonly executable: string } | { readonly browser?: undefined; readonly reason: string }

export const startBrowser = async (): Promise<Started> => {
  const executable = candidates().find((p) => existsSync(p))
  if (executable === undefined) return { reason: `no Chromium found (looked at ${candidates().join(', ')}; install Debian's chromium: apt-get install -y chromium)` }
  try {
    return { browser: await chromium.launch({ executablePath: executable, args: CHROMIUM_FLAGS, timeout: 120_000 }), executable }
  } catch (e) {
    return { reason: `Chromium at ${executable} did not start: ${(e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''}` }
  }
}

const types: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.json': 'application/json', '.png': 'image/png', '.jpg': 'image/jpeg', '.onnx': 'application/octet-stream', '.svg': 'image/svg+xml',
}

/** Serves `dir` on 127.0.0.1 (a free port), cross-origin isolated so that WebAssembly threads work. */
export const serve = async (dir: string): Promise<{ readonly url: string; readonly close: () => Promise<void> }> => {
  const server: Server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname))
    const file = join(dir, path.endsWith(sep) || path.endsWith('/') ? `${path}index.html` : path)
    if (!file.startsWith(dir)) {
      response.writeHead(403).end()
      return
    }
    readFile(file).then((body) => {
      response.writeHead(200, {
        'content-type': types[extname(file)] ?? 'application/octet-stream',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      }).end(body)
    }, () => response.writeHead(404).end('not found'))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** Collects a page's console errors and uncaught exceptions (the tests fail on any). */
export const watchConsole = (page: Page): string[] => {
  const errors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`)
  })
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`))
  return errors
}

/** How much a screenshot varies: distinct colours and the standard deviation of its grey values. */
export const screenshotVariety = async (png: Buffer): Promise<{ readonly colours: number; readonly stdev: number; readonly width: number; readonly height: number }> => {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  const seen = new Set<number>()
  let sum = 0
  let sq = 0
  const n = info.width * info.height
  for (let p = 0; p < n; p++) {
    const r = data[3 * p] ?? 0
    const g = data[3 * p + 1] ?? 0
    const b = data[3 * p + 2] ?? 0
    if (seen.size < 100_000) seen.add((r << 16) | (g << 8) | b)
    const grey = (r + g + b) / 3
    sum += grey
    sq += grey * grey
  }
  const mean = sum / n
  return { colours: seen.size, stdev: Math.sqrt(Math.max(0, sq / n - mean * mean)), width: info.width, height: info.height }
}
