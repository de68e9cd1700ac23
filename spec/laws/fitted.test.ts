/**
 * Laws of the fitted merge and of the greedy search (issue 8), each checked on ≥ 200 random
 * problems: fitted weights are ≥ 0 and sum to 1 (over views, per class when per class); uniform
 * weights merge exactly as the mean; the search's selection-set score never gets worse from one
 * step to the next, and never ends worse than no TTA.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fitTemperature, fitWeights, orThrow, searchMerges, searchPolicy, tensor, weightedScores, wrap, type Tensor } from '../../src/index.js'
import { commit, emptyState, scoresWith } from '../../src/policy/merges.js'
import { problems, synthetic } from '../policy/synthetic.js'

const RUNS = 200

describe('fitted merge laws', () => {
  it('weights are ≥ 0 and sum to 1 over the views (per class when per class), for both pools', () => {
    let runs = 0
    fc.assert(fc.property(problems, fc.boolean(), fc.boolean(), ({ seed, items, classes, views }, perClass, logits) => {
      runs++
      const { cache, labels } = synthetic(seed, items, classes, views)
      const fit = fitWeights(cache, cache.views.map((_, v) => v), labels, { over: logits ? 'logits' : 'probabilities', perClass, iterations: 20 })
      expect(fit.weights.length).toBe(views)
      const width = perClass ? classes : 1
      for (const row of fit.weights) {
        expect(row.length).toBe(width)
        for (const w of row) expect(w).toBeGreaterThanOrEqual(0)
      }
      for (let c = 0; c < width; c++) expect(fit.weights.reduce((a, row) => a + (row[c] ?? 0), 0)).toBeCloseTo(1, 12)
      expect(fit.temperature).toBeGreaterThan(0)
    }), { numRuns: RUNS })
    expect(runs).toBeGreaterThanOrEqual(RUNS)
  })

  it('a fit is never worse than the uniform merge it starts from', () => {
    fc.assert(fc.property(problems, fc.boolean(), ({ seed, items, classes, views }, perClass) => {
      const { cache, labels } = synthetic(seed, items, classes, views)
      const all = cache.views.map((_, v) => v)
      const uniform = all.map(() => [1 / views])
      const before = fitTemperature(weightedScores(cache, all, uniform, 'logits'), labels, classes)
      const fit = fitWeights(cache, all, labels, { over: 'logits', perClass, iterations: 30 })
      expect(fit.nll).toBeLessThanOrEqual(before.nll + 1e-12)
    }), { numRuns: RUNS })
  })

  it('uniform weights equal the mean merge: offline (logits and probabilities) and in a wrapper run', async () => {
    fc.assert(fc.property(problems, ({ seed, items, classes, views }) => {
      const { cache } = synthetic(seed, items, classes, views)
      const all = cache.views.map((_, v) => v)
      const state = emptyState(items * classes)
      for (const v of all) commit(state, cache, v)
      for (const over of ['logits', 'probabilities'] as const) {
        const mean = scoresWith(new Float64Array(items * classes), state, cache, undefined, { mode: 'mean', over })
        const weighted = weightedScores(cache, all, all.map(() => [1 / views]), over)
        mean.forEach((m, i) => expect(weighted[i]).toBeCloseTo(m, 9))
      }
    }), { numRuns: RUNS })
    // At run time: merge 'sum' with weights 1/V is merge 'mean', for any views of a real product.
    await fc.assert(fc.asyncProperty(fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: 8, maxLength: 8 }), async (pixels) => {
      const image = orThrow(tensor([2, 1, 2, 2], pixels))
      const model = async (x: Tensor<readonly ['N', 1, 2, 2]>) => orThrow(tensor([x.shape[0], 2], Array.from({ length: x.shape[0] }, (_, b) => [x.data[b * 4] ?? 0, (x.data[b * 4 + 1] ?? 0) * 2]).flat()))
      const { aliases } = await import('../../src/index.js')
      const mean = orThrow(await wrap.classification(model, aliases.flip(), { merge: 'mean' }).run(image)())
      const uniform = orThrow(await wrap.classification(model, aliases.flip(), { merge: 'sum', combine: { weights: [[0.25], [0.25], [0.25], [0.25]] } }).run(image)())
      mean.data.forEach((m, i) => expect(uniform.data[i]).toBeCloseTo(m, 5))
    }), { numRuns: RUNS })
  })
})

describe('greedy search laws', () => {
  it('the selection-set score never decreases step to step, and the policy is never worse than no TTA', () => {
    let runs = 0
    fc.assert(fc.property(problems, ({ seed, items, classes, views, budget }) => {
      runs++
      const { cache, labels } = synthetic(seed, items, classes, views)
      const found = searchPolicy(cache, labels, { budget: { views: budget } })
      expect(E.isRight(found)).toBe(true)
      if (E.isLeft(found)) return
      const { steps, baseline, chosen } = found.right
      expect(steps[0]).toBe(baseline)
      for (let k = 1; k < steps.length; k++) expect(steps[k]?.nll ?? Infinity).toBeLessThanOrEqual((steps[k - 1]?.nll ?? -Infinity) + 1e-12)
      expect(chosen.nll).toBeLessThanOrEqual(baseline.nll + 1e-12)
      expect(found.right.views.length).toBeLessThanOrEqual(budget)
      expect(new Set(found.right.views).size).toBe(found.right.views.length)
    }), { numRuns: RUNS })
    expect(runs).toBeGreaterThanOrEqual(RUNS)
  })

  it('each step\'s score is what its views and merge score when recomputed from scratch', () => {
    fc.assert(fc.property(problems, ({ seed, items, classes, views, budget }) => {
      const { cache, labels } = synthetic(seed, items, classes, views)
      const found = orThrow(searchPolicy(cache, labels, { budget: { views: budget }, fit: false }))
      for (const step of found.steps.slice(1)) {
        const state = emptyState(items * classes)
        for (const v of step.views) commit(state, cache, v)
        const merge = searchMerges('logits').find((m) => m.mode === step.merge.mode && m.over === step.merge.over)
        expect(merge).toBeDefined()
        if (merge === undefined) return
        const again = fitTemperature(scoresWith(new Float64Array(items * classes), state, cache, undefined, merge), labels, classes)
        expect(again.nll).toBeCloseTo(step.nll, 9)
      }
    }), { numRuns: RUNS })
  })
})
