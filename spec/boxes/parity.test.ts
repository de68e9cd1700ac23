/**
 * Parity with ensemble-boxes: every case of the reference file (spec/fixtures/boxes_public.json, or
 * the file named by BOXES_GOLDEN), judged exact, within the float32 tolerance, or a documented
 * deviation (spec/boxes/run.ts). The summary lines are printed at the end; docs/boxes.md quotes them.
 *
 *   npx vitest run spec/boxes/parity.test.ts
 *   BOXES_GOLDEN=/path/to/more.json npx vitest run spec/boxes/parity.test.ts
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { describeSource } from '../parity/reference-file.js'
import { boxesGoldenFile, loadBoxesGolden, type BoxCase } from './golden.js'
import { judge, optionsOf, runCase, tally, tolerance } from './run.js'

const file = boxesGoldenFile()
const golden = loadBoxesGolden(file)
const counts = tally()
let decayedDiffer = 0
let decayedCases = 0

afterAll(() => {
  for (const line of counts.summary(describeSource(file, 'BOXES_GOLDEN'))) console.log(line)
  console.log(`boxes parity: soft-NMS with our default scores ('decayed'): ${decayedDiffer} of ${decayedCases} linear/gaussian cases return at least one score below the reference's undecayed one`)
})

describe(`ensemble-boxes parity (${golden.cases.length} cases)`, () => {
  it('reads a non-empty file with every function', () => {
    expect(golden.cases.length).toBeGreaterThan(0)
    if (typeof file !== 'string') {
      // The fixture is the public file: 240 cases of all four functions.
      expect(golden.cases.length).toBe(240)
      expect(new Set(golden.cases.map((c) => c.function))).toEqual(new Set(['wbf', 'nms', 'soft_nms', 'nmw']))
    }
  })

  it.each(golden.cases.map((c): [string, BoxCase] => [c.id, c]))('%s', (_, c) => {
    const verdict = judge(c)
    counts.record(c.function, verdict)
    if (verdict.kind === 'mismatch') expect.fail(`${c.id}: ${verdict.reason}`)
    if (verdict.kind === 'close') expect(verdict.maxAbs).toBeLessThanOrEqual(tolerance)
    const options = optionsOf(c)
    if (c.function === 'soft_nms' && options['method'] === 'soft-nms' && c.out !== undefined) {
      // Our default returns the decayed scores: the same boxes in the same order, each score at most the reference's.
      const decayed = runCase(c, { ...options, scores: 'decayed' })
      if (E.isLeft(decayed)) return expect.fail(decayed.left.message)
      const ref = c.out
      expect(decayed.right.boxes).toEqual(ref.boxes)
      expect(decayed.right.labels).toEqual(ref.labels)
      decayed.right.scores.forEach((s, i) => {
        expect(s).toBeLessThanOrEqual((ref.scores[i] ?? 0) + tolerance)
        expect(s).toBeGreaterThan(typeof options['scoreThreshold'] === 'number' ? options['scoreThreshold'] : 0.001)
      })
      decayedCases++
      if (decayed.right.scores.some((s, i) => s !== ref.scores[i])) decayedDiffer++
    }
  })
})
