/**
 * The browser build (web/vite.lib.config.ts, `npm run build:browser`) against its budget, measured
 * minified and gzipped (level 9), without onnxruntime-web and without any model:
 *
 * | what | budget (gzipped) |
 * | --- | --- |
 * | `tta-lens`, every export (the law kit brings fast-check) | 160 KB |
 * | a typical use: `wrap.segmentation` + `aliases.d4` + tensors, tree-shaken | 50 KB |
 * | `tta-lens/web`'s own code (the onnxruntime-web adapter) | 4 KB |
 *
 * Tree-shaking needs package.json's `sideEffects` (only tta-lens/node and the CLI have any): without
 * it a bundler keeps every module a used one sits beside, and the law kit's top-level fast-check
 * arbitraries pull all of fast-check into a bundle that never uses it.
 *
 * tta-lens/node and tta-lens/queue are Node-only and not in it: the built chunks must import no Node
 * built-in and hold nothing of the queue's BullMQ, ioredis or Piscina.
 *
 * gpu.js (≈150 KB gzipped) is not in any of these: the gpujs backend loads it on first use, so
 * it must stay a separate chunk that no entry imports statically. The sizes are printed for the
 * record (docs/benchmarks.md quotes them).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTypicalUse, closure, readChunks as read, type Chunk } from '../../web/sizes.node.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const KB = 1000
let out = ''
let typicalOut = ''
const chunks = new Map<string, Chunk>()
const chunkText = new Map<string, string>()

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'tta-lens-bundle-'))
  typicalOut = await mkdtemp(join(tmpdir(), 'tta-lens-typical-'))
  await build({ configFile: join(root, 'web', 'vite.lib.config.ts'), logLevel: 'warn', build: { outDir: out } })
  for (const [k, v] of await read(out)) {
    chunks.set(k, v)
    chunkText.set(k, await readFile(join(out, k), 'utf8'))
  }
  await buildTypicalUse(root, typicalOut)
}, 300_000)

afterAll(async () => {
  for (const dir of [out, typicalOut]) if (dir !== '') await rm(dir, { recursive: true, force: true })
})

describe('the browser bundle', () => {
  it('is within its budget, minified and gzipped, and loads gpu.js only on first use', async () => {
    const core = closure(chunks, 'tta-lens.js')
    const web = closure(chunks, 'tta-lens-web.js')
    const typicalChunks = await read(typicalOut)
    const typical = closure(typicalChunks, 'typical.js')
    const gpu = [...chunks.values()].find((c) => c.file.startsWith('gpu-browser'))
    const line = (what: string, c: { gzip: number; bytes: number }): string => `${what}: ${(c.bytes / KB).toFixed(1)} KB minified, ${(c.gzip / KB).toFixed(1)} KB gzipped`
    console.info([
      line('tta-lens (every export)', core), line('typical use (wrap.segmentation + d4)', typical),
      line('tta-lens/web alone', chunks.get('tta-lens-web.js') ?? { gzip: 0, bytes: 0 }), line('tta-lens/web with the modules it shares with the core', web),
      gpu === undefined ? 'no gpu.js chunk' : line('gpu.js chunk (loaded by the gpujs backend on first use)', gpu),
    ].join('\n'))
    expect(gpu).toBeDefined()
    expect(core.files.some((f) => f.startsWith('gpu-browser'))).toBe(false)
    expect(typical.files.some((f) => f.startsWith('gpu-browser'))).toBe(false)
    expect(core.gzip).toBeLessThan(160 * KB)
    expect(typical.gzip).toBeLessThan(50 * KB)
    // tta-lens/web's own code; the rest of its closure is shared with the core (fp-ts, io-ts).
    expect(chunks.get('tta-lens-web.js')?.gzip ?? Infinity).toBeLessThan(4 * KB)
  })

  it('holds nothing of tta-lens/queue (BullMQ, ioredis, Piscina) and imports no Node built-in', () => {
    // The import-graph test (entry-points.test.ts) checks the sources; this checks what was shipped.
    const nodeOnly = /bullmq|ioredis|piscina|redis:\/\/|(?:from|import)\s*["'(]*node:/
    expect([...chunkText].filter(([, text]) => nodeOnly.test(text)).map(([file, text]) => `${file}: ${nodeOnly.exec(text)?.[0] ?? ''}`)).toEqual([])
    expect(chunkText.size).toBe(chunks.size)
  })
})
