/**
 * Synthetic per-view predictions for the policy tests: items of `classes` classes (every class
 * present), a shared signal toward the true class, and per-view noise — some views better than
 * others, some worse than the identity.
 */
import fc from 'fast-check'
import { cachePredictions, orThrow, type CachedPredictions } from '../../src/index.js'
import { mulberry32 } from '../../src/eval/random.js'

export interface Synthetic {
  readonly cache: CachedPredictions
  readonly labels: Int32Array
  readonly raws: readonly Float32Array[]
}


export const synthetic = (seed: number, items: number, classes: number, views: number): Synthetic => {
  const next = mulberry32(seed)
  const gauss = (): number => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next())
  const labels = Int32Array.from({ length: items }, (_, i) => (i < classes ? i : Math.floor(next() * classes)))
  const base = Float32Array.from({ length: items * classes }, (_, k) => 2 * gauss() + (labels[Math.floor(k / classes)] === k % classes ? 2.5 : 0))
  const raws = Array.from({ length: views }, (_, v) => {
    const noise = 0.3 + 1.5 * next()
    return Float32Array.from(base, (b) => (v === 0 ? b : b + noise * gauss()))
  })
  return { cache: orThrow(cachePredictions(raws, classes, 'logits', raws.map((_, v) => `view ${v}`))), labels, raws }
}

/** Arbitrary synthetic problems: 2–5 classes, 20–120 items, 2–6 views. */
export const problems = fc.record({
  seed: fc.integer(),
  items: fc.integer({ min: 20, max: 120 }),
  classes: fc.integer({ min: 2, max: 5 }),
  views: fc.integer({ min: 2, max: 6 }),
  budget: fc.integer({ min: 1, max: 6 }),
})
