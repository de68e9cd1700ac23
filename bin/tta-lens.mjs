#!/usr/bin/env node
// The tta-lens command. In a checkout (src/ is there) it runs the TypeScript source through tsx,
// so a fresh clone works after `npm ci` and a stale dist/ is never run by mistake; the published
// package ships only the build (dist/), which it runs.
import { existsSync } from 'node:fs'

const source = new URL('../src/cli/main.ts', import.meta.url)
if (existsSync(source)) {
  const { tsImport } = await import('tsx/esm/api')
  await tsImport(source.href, import.meta.url)
} else {
  await import(new URL('../dist/src/cli/main.js', import.meta.url).href)
}
