/**
 * Parity with ensemble-boxes: every case of the reference file (spec/fixtures/boxes_public.json, or
 * the file named by BOXES_GOLDEN), judged exact, within the float32 tolerance, or a documented
 * deviation (spec/boxes/run.ts); then the same for our supplement, spec/fixtures/boxes_extra.json
 * (cases the public file lacks, computed by ensemble-boxes with tools/boxes/reference_cases.py).
 * The summary lines are printed at the end; docs/boxes.md quotes them.
 *
 *   npx vitest run spec/boxes/parity.test.ts
 *   BOXES_GOLDEN=/path/to/more.json npx vitest run spec/boxes/parity.test.ts
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { describeSource } from '../parity/reference-file.js'
import { boxesGoldenFile, loadBoxesGolden, type BoxCase, type BoxesGolden } from './golden.js'
import { judge, optionsOf, runCase, tally, tolerance, type Verdict } from './run.js'

const file = boxesGoldenFile()
const golden = loadBoxesGolden(file)
const supplementFile = new URL('../fixtures/boxes_extra.json', import.meta.url)
const supplement = loadBoxesGolden(supplementFile)

interface Counts {
  readonly tally: ReturnType<typeof tally>
  decayedDiffer: number
  decayedCases: number
}
const publicCounts: Counts = { tally: tally(), decayedDiffer: 0, decayedCases: 0 }
const supplementCounts: Counts = { tally: tally(), decayedDiffer: 0, decayedCases: 0 }
const verdicts = new Map<string, Verdict>()

afterAll(() => {
  for (const [source, counts] of [[describeSource(file, 'BOXES_GOLDEN'), publicCounts], ['spec/fixtures/boxes_extra.json', supplementCounts]] as const) {
    for (const line of counts.tally.summary(source)) console.log(line)
    console.log(`boxes parity (${source}): soft-NMS with our default scores ('decayed'): ${counts.decayedDiffer} of ${counts.decayedCases} linear/gaussian cases return at least one score below the reference's undecayed one`)
  }
})

/** Judges one case, records it, and fails on a mismatch; for soft-NMS also checks our default (decayed) scores. */
const check = (c: BoxCase, counts: Counts): Verdict => {
  const verdict = judge(c)
  counts.tally.record(c.function, verdict)
  if (verdict.kind === 'mismatch') expect.fail(`${c.id}: ${verdict.reason}`)
  if (verdict.kind === 'close') expect(verdict.maxAbs).toBeLessThanOrEqual(tolerance)
  const options = optionsOf(c)
  if (c.function === 'soft_nms' && options['method'] === 'soft-nms' && c.out !== undefined && (verdict.kind === 'exact' || verdict.kind === 'close')) {
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
    counts.decayedCases++
    if (decayed.right.scores.some((s, i) => s !== ref.scores[i])) counts.decayedDiffer++
  }
  return verdict
}

const cases = (g: BoxesGolden): [string, BoxCase][] => g.cases.map((c) => [c.id, c])

describe(`ensemble-boxes parity (${golden.cases.length} cases)`, () => {
  it('reads a non-empty file with every function', () => {
    expect(golden.cases.length).toBeGreaterThan(0)
    if (typeof file !== 'string') {
      // The fixture is the public file: 240 cases of all four functions.
      expect(golden.cases.length).toBe(240)
      expect(new Set(golden.cases.map((c) => c.function))).toEqual(new Set(['wbf', 'nms', 'soft_nms', 'nmw']))
    }
  })

  it.each(cases(golden))('%s', (_, c) => { check(c, publicCounts) })
})

describe(`ensemble-boxes parity, our supplement (${supplement.cases.length} cases)`, () => {
  it.each(cases(supplement))('%s', (id, c) => { verdicts.set(id, check(c, supplementCounts)) })

  it('linear soft-NMS, clipping, dropped boxes, identical views and large views match the reference', () => {
    const groups = ['soft_nms-linear', 'soft_nms-defaults', 'outside', 'copies', 'large', 'skip-equal']
    const inGroups = [...verdicts.entries()].filter(([id]) => groups.some((g) => id.startsWith(`${g}-`)))
    expect(inGroups.length).toBe(30 + 6 + 24 + 12 + 12 + 6)
    for (const [id, v] of inGroups) expect(['exact', 'close'], id).toContain(v.kind)
  })

  it('every documented deviation kind occurs and is checked', () => {
    const kinds = new Set([...verdicts.values()].flatMap((v) => (v.kind === 'deviation' ? [v.deviation] : [])))
    expect([...kinds].sort()).toEqual(['both-refuse', 'reference-nan', 'reference-raises-on-empty', 'tie-break', 'tie-order', 'we-refuse'])
  })
})
