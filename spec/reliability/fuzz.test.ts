/**
 * The fuzz run: fast-check arbitraries over shapes, data, option objects, policy strings and
 * config JSON, fed to every public entry point of entry-points.mjs, at least 1,000 runs each.
 * The property: the call returns a Right whose numbers are all finite, or a Left holding a typed
 * error (a known `_tag` and a message) — never a throw, a hang (each call is bounded at 10 s) or a
 * non-finite success.
 */
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import * as root from '../../src/index.js'
import * as node from '../../src/node.js'

/** The whole library as a user of both entry points sees it: the browser-safe root and tta-lens/node. */
const lib = { ...root, ...node }
import { entryPoints } from './entry-points.mjs'

const RUNS = 1000
const HANG_MS = 10_000

/** The first non-finite number reachable in a result (typed arrays, arrays, plain objects), or undefined. */
const nonFinite = (value: unknown, path = 'right', depth = 0): string | undefined => {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} = ${value}`
  if (depth > 6 || typeof value !== 'object' || value === null) return undefined
  if (value instanceof Float32Array || value instanceof Float64Array) {
    const bad = lib.firstNonFinite(value)
    return bad < 0 ? undefined : `${path}[${bad}] = ${value[bad]}`
  }
  if (ArrayBuffer.isView(value)) return undefined // integer arrays hold only finite values
  for (const [key, inner] of Object.entries(value)) {
    const found = nonFinite(inner, `${path}.${key}`, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

/** Why a result breaks the property, or undefined. */
const verdict = (result: unknown): string | undefined => {
  if (typeof result !== 'object' || result === null || !('_tag' in result)) return `not an Either: ${String(result)}`
  if (result._tag === 'Right' && 'right' in result) return nonFinite(result.right)
  if (result._tag === 'Left' && 'left' in result) {
    return lib.isTtaError(result.left) && result.left.message.trim() !== '' ? undefined : `a Left that is not a typed error: ${JSON.stringify(result.left)}`
  }
  return `not an Either: ${JSON.stringify(result)}`
}

const bounded = async (work: () => unknown): Promise<unknown> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const hang = new Promise((resolve) => { timer = setTimeout(() => resolve({ hang: true }), HANG_MS) })
  try {
    return await Promise.race([Promise.resolve().then(work), hang])
  } finally {
    clearTimeout(timer)
  }
}

/** Outcomes per entry point, written to the test output for docs/reliability.md. */
const tally: string[] = []

describe('fuzz: every public entry point, ≥ 1,000 runs each', () => {
  afterAll(() => {
    if (process.env.TTA_FUZZ_TALLY !== undefined) process.stdout.write(`${tally.join('\n')}\n`)
  })

  for (const entry of entryPoints(lib)) {
    it(`${entry.name}: a finite Right or a typed Left, never a throw, a hang or a non-finite success`, async () => {
      let runs = 0
      const outcomes = new Map<string, number>()
      await fc.assert(fc.asyncProperty(entry.args, async (args) => {
        runs++
        let result: unknown
        try {
          result = await bounded(() => Reflect.apply(entry.call, undefined, [args]))
        } catch (e) {
          throw new Error(`threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
        }
        if (typeof result === 'object' && result !== null && 'hang' in result) throw new Error(`no answer within ${HANG_MS} ms`)
        const problem = verdict(result)
        if (problem !== undefined) throw new Error(problem)
        const outcome = typeof result === 'object' && result !== null && 'left' in result && lib.isTtaError(result.left) ? result.left._tag : 'Right'
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
      }), { numRuns: RUNS })
      expect(runs).toBeGreaterThanOrEqual(RUNS)
      // Both sides are exercised: the arbitraries reach successes as well as refusals.
      expect(outcomes.get('Right') ?? 0, JSON.stringify([...outcomes])).toBeGreaterThan(0)
      expect(runs - (outcomes.get('Right') ?? 0), JSON.stringify([...outcomes])).toBeGreaterThan(0)
      tally.push(`${entry.name}: ${[...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`)
    }, 600_000)
  }
})
