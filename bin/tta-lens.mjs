#!/usr/bin/env node
// The tta-lens command: the compiled CLI when the package was built (dist/), otherwise the
// TypeScript source through tsx, so a fresh clone works after `npm ci` with no build step.
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/src/cli/main.js', import.meta.url)
if (existsSync(compiled)) {
  await import(compiled.href)
} else {
  const { tsImport } = await import('tsx/esm/api')
  await tsImport('../src/cli/main.ts', import.meta.url)
}
