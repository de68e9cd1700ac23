import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { laws, mergeModes, tensor, orThrow } from '../../src/index.js'

describe('merge laws', () => {
  it('checkMerge: n copies of x, and order invariance, for every mode (200 runs each)', () => {
    const report = laws.checkMerge()
    if (E.isLeft(report)) throw new Error(report.left.message)
    expect(report.right.minRuns).toBeGreaterThanOrEqual(200)
    expect(report.right.laws.map((l) => `${l.law}:${l.view}`)).toEqual(mergeModes.flatMap((m) => [`merge-copies:${m}`, `merge-order:${m}`]))
  })

  it('states the expected results: x, one-hot(argmax) for vote, n·x for sum, √x for tsharpen', () => {
    const x = orThrow(tensor([2, 3], [0.25, 1, 1, 4, 0, 0.5625]))
    const expected: Record<string, readonly number[]> = {
      mean: [0.25, 1, 1, 4, 0, 0.5625],
      gmean: [0.25, 1, 1, 4, 0, 0.5625],
      max: [0.25, 1, 1, 4, 0, 0.5625],
      min: [0.25, 1, 1, 4, 0, 0.5625],
      sum: [0.75, 3, 3, 12, 0, 1.6875],
      tsharpen: [0.5, 1, 1, 2, 0, 0.75],
      vote: [0, 1, 0, 1, 0, 0], // row 0: the first of the tied maxima wins
    }
    for (const mode of mergeModes) {
      expect(Array.from(laws.expectedMergeOfCopies(mode, x.shape, x.data, 3)), mode).toEqual(expected[mode])
      expect(laws.mergeOfCopies(mode, x, 3).holds, mode).toBe(true)
    }
  })

  it('the order law is not vacuous: a non-commutative "merge" (last view wins) would fail it', () => {
    const lastWins = (views: readonly Float32Array[]): Float32Array => views[views.length - 1] ?? new Float32Array(0)
    const details = fc.check(fc.property(
      fc.integer({ min: 2, max: 4 }).chain((n) => laws.arbitraries.predictions(n)).chain((xs) =>
        fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs.map((_, i) => i), { minLength: xs.length, maxLength: xs.length }))),
      ([xs, order]) => {
        const a = lastWins(xs.map((t) => t.data))
        const b = lastWins(order.map((k) => xs[k]?.data ?? new Float32Array(0)))
        return laws.firstDifference({ shape: [a.length], data: a }, { shape: [b.length], data: b }) === undefined
      }), { numRuns: 200 })
    expect(details.failed).toBe(true)
    // and the real modes pass the same property through the law
    expect(laws.mergeOrder('mean', [orThrow(tensor([2], [1, 2])), orThrow(tensor([2], [3, 5]))], [1, 0]).holds).toBe(true)
    expect(laws.mergeOrder('mean', [orThrow(tensor([2], [1, 2]))], [1, 0])).toMatchObject({ holds: false })
  })
})
