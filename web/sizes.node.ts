/**
 * Sizes of a build's JavaScript: each chunk minified and gzipped (level 9), with its static
 * imports, and an entry's closure (the entry and what it imports statically). Used by the bundle
 * budget test (spec/package/bundle.test.ts) and the browser benchmark (bench/sections/browser.ts).
 */
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'vite'

/** One chunk of a build. */
export interface Chunk { readonly file: string; readonly bytes: number; readonly gzip: number; readonly imports: readonly string[] }

/** Every `.js` chunk in a build's output folder. */
export const readChunks = async (dir: string): Promise<Map<string, Chunk>> => {
  const found = new Map<string, Chunk>()
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.js'))) {
    const text = await readFile(join(dir, file))
    const source = text.toString('utf8')
    // Static imports only: `import … from "./x.js"` / `import "./x.js"`, not `import("./x.js")`.
    const imports = [...source.matchAll(/(?:^|[;}\n])\s*import\s*(?:[\w*{}\s,$]+from\s*)?["']\.\/([^"']+)["']/g)].map((m) => m[1] ?? '')
    found.set(file, { file, bytes: text.length, gzip: gzipSync(text, { level: 9 }).length, imports })
  }
  return found
}

/** An entry and everything it imports statically, gzipped bytes summed. */
export const closure = (all: ReadonlyMap<string, Chunk>, entry: string): { readonly gzip: number; readonly bytes: number; readonly files: readonly string[] } => {
  const seen = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    for (const next of all.get(file)?.imports ?? []) visit(next)
  }
  visit(entry)
  const files = [...seen]
  return { files, gzip: files.reduce((a, f) => a + (all.get(f)?.gzip ?? 0), 0), bytes: files.reduce((a, f) => a + (all.get(f)?.bytes ?? 0), 0) }
}

/**
 * Bundles a typical browser use (spec/package/fixtures/typical-use.ts: `wrap.segmentation` with
 * `aliases.d4()` and tensors) into `outDir`, tree-shaken and minified as an application would; the
 * closure of `typical.js` is its size.
 */
export const buildTypicalUse = async (root: string, outDir: string): Promise<void> => {
  await build({
    configFile: false, root, logLevel: 'warn', publicDir: false,
    build: {
      outDir, emptyOutDir: true, target: 'es2022', minify: true, reportCompressedSize: false, chunkSizeWarningLimit: 1024,
      rollupOptions: { input: { typical: join(root, 'spec', 'package', 'fixtures', 'typical-use.ts') }, preserveEntrySignatures: 'strict', output: { format: 'es', entryFileNames: '[name].js' } },
    },
  })
}
