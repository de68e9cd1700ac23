/**
 * The browser build of the library itself (`npm run build:browser` → dist/browser/): `tta-lens`
 * (the core) and `tta-lens/web` as minified ES modules for a browser, gpu.js split into a chunk the
 * gpujs backend loads on first use, onnxruntime-web left to the page (an optional peer
 * dependency). spec/package/bundle.test.ts builds it and holds its gzipped size to a budget.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  root: here('..'),
  publicDir: false,
  build: {
    outDir: here('../dist/browser/'),
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
    // An application-style build with the entries' exports kept: unlike library mode, its ES
    // output is fully minified (whitespace too), which is what a user's bundler would ship.
    rollupOptions: {
      input: { 'tta-lens': here('../src/index.ts'), 'tta-lens-web': here('../src/web.ts') },
      preserveEntrySignatures: 'strict',
      external: ['onnxruntime-web'],
      checks: { pluginTimings: false },
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    },
  },
})
