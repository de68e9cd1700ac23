/**
 * The library from untyped JavaScript: every case of library-cases.mjs, by class (docs/reliability.md).
 * Each asserts the typed error (tag, exact message, fields), that nothing was thrown, and for cases
 * that work in a folder, that no file there changed except the ones the case names. The limit cases
 * run in a child process whose peak RSS is bounded.
 */
import { execFile } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import * as root from '../../src/index.js'
import * as node from '../../src/node.js'

/** The whole library as a user of both entry points sees it: the browser-safe root and tta-lens/node. */
const lib = { ...root, ...node }
import { caseFiles, libraryCases } from './library-cases.mjs'
import { gzipBomb, problemWith } from './check-case.mjs'
import { bombRssBoundKiB, changedPaths, classNames, refusalRssBoundKiB, snapshot } from './helpers.js'

const newContext = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tta-case-'))
  await caseFiles(dir)
  let before = await snapshot(dir)
  return {
    ctx: { dir, rebaseline: async () => { before = await snapshot(dir) }, gzipBomb },
    changes: async () => changedPaths(before, await snapshot(dir)),
  }
}

for (const cls of [1, 2, 3, 4, 5] as const) {
  describe(`library, class ${cls}: ${classNames[cls]}`, () => {
    for (const c of libraryCases.filter((k) => k.cls === cls && k.rss !== true)) {
      it(c.title, async () => {
        const { ctx, changes } = await newContext()
        let result: unknown
        try {
          result = await c.run(lib, ctx)
        } catch (e) {
          expect.fail(`threw instead of returning a Left: ${e instanceof Error ? e.stack : String(e)}`)
        }
        expect(problemWith(result, c.expect, ctx)).toBeUndefined()
        const changed = await changes()
        const allowed = (path: string): boolean => (c.changes ?? []).some((p) => (typeof p === 'string' ? p === path : p.test(path)))
        expect(changed.filter((p) => !allowed(p))).toEqual([])
      })
    }
  })
}

describe('library, class 1: limit cases in a child process, with peak RSS bounded', () => {
  const limitCases = [...libraryCases.filter((k) => k.rss === true && !k.title.includes('gzip')), ...libraryCases.filter((k) => k.rss === true && k.title.includes('gzip'))]

  it(`${limitCases.length} cases each return their typed error; peak RSS ≤ 256 MiB (≤ 512 MiB for the gzip bomb, which may unpack up to the limit)`, async () => {
    const child = new URL('./limits-child.mjs', import.meta.url).pathname
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child], { timeout: 120_000, maxBuffer: 1 << 20 })
    const reports: unknown[] = stdout.trim().split('\n').map((line): unknown => JSON.parse(line))
    expect(reports.map((r) => (typeof r === 'object' && r !== null && 'title' in r ? r.title : undefined))).toEqual(limitCases.map((c) => c.title))
    for (const report of reports) {
      expect(report).toMatchObject({ problem: null })
      const title = typeof report === 'object' && report !== null && 'title' in report ? String(report.title) : ''
      const after = typeof report === 'object' && report !== null && 'after' in report && typeof report.after === 'number' ? report.after : Number.NaN
      if (process.env.TTA_RSS_REPORT !== undefined) process.stdout.write(`peak RSS ${(after / 1024).toFixed(0)} MiB: library ${title}\n`)
      expect(after, title).toBeLessThanOrEqual(title.includes('gzip bomb') ? bombRssBoundKiB : refusalRssBoundKiB)
    }
  })
})
