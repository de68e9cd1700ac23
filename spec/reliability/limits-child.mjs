// Runs the library's limit cases (those marked `rss`) in a process of their own and reports, per
// case, whether it returned the expected typed error and the process's peak RSS so far. A case
// that allocated what it should have refused would show here as gigabytes (or kill only this process).
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { libraryCases } from './library-cases.mjs'
import { gzipBomb, problemWith } from './check-case.mjs'

const lib = { ...(await import('../../src/index.ts')), ...(await import('../../src/node.ts')) }
const dir = await mkdtemp(join(tmpdir(), 'tta-limits-'))
let bomb
const ctx = { dir, rebaseline: async () => undefined, gzipBomb: async () => (bomb ??= await gzipBomb()) }
// Peak RSS only grows: the gzip bomb, which may unpack up to the limit, runs last so that it does not mask the others.
const ordered = [...libraryCases.filter((k) => k.rss === true && !k.title.includes('gzip')), ...libraryCases.filter((k) => k.rss === true && k.title.includes('gzip'))]
for (const c of ordered) {
  // Made before the case, so that its own bytes do not count against the case.
  if (c.title.includes('gzip')) await ctx.gzipBomb()
  const before = process.resourceUsage().maxRSS
  let problem
  try {
    problem = problemWith(await c.run(lib, ctx), c.expect, ctx)
  } catch (e) {
    problem = `threw ${e instanceof Error ? e.message : String(e)}`
  }
  process.stdout.write(`${JSON.stringify({ title: c.title, problem: problem ?? null, before, after: process.resourceUsage().maxRSS })}\n`)
}
