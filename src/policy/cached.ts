/**
 * Per-view predictions on a labelled set, held once and reused by every step of a policy search:
 * the model's raw outputs for each candidate view (`[N, classes]`), with what the merges need
 * derived once (class probabilities, their logarithms and square roots, each view's top class).
 * Memory: about 36 bytes per value (N × classes × views); the search checks the bound before it
 * allocates.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { policyError, type PolicyError } from '../errors.js'
import type { ScoreKind } from '../merge/spread.js'

/** One candidate view's outputs on the set, and what the merges derive from them. @category model */
export interface CachedView {
  /** The model's outputs, `[N, classes]` row-major. */
  readonly raw: Float32Array
  /** Class probabilities (softmax of logits, or the outputs themselves). */
  readonly probs: Float64Array
  readonly logProbs: Float64Array
  readonly sqrtProbs: Float64Array
  /** The view's own top class for each item. */
  readonly top: Int32Array
}

/** Every candidate's outputs on one labelled set. @category model */
export interface CachedPredictions {
  readonly items: number
  readonly classes: number
  /** What the model returns. */
  readonly scores: ScoreKind
  readonly views: readonly CachedView[]
}

/** Bytes the cache of `views` candidates on `items` × `classes` outputs holds. @category utils */
export const cacheBytes = (items: number, classes: number, views: number): number => items * classes * views * (4 + 3 * 8) + items * views * 4

/**
 * Builds the cache from each candidate's raw outputs, checking sizes and values: a non-finite
 * output (or a probability outside [0, 1]) is a `candidate` PolicyError naming the view and items.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { cachePredictions } from 'tta-lens'
 * const cache = cachePredictions([Float32Array.of(0, 1, 2, 0)], 2, 'logits', ['identity'])
 * assert.ok(E.isRight(cache) && cache.right.views[0]?.top.join() === '1,0')
 * const bad = cachePredictions([Float32Array.of(0, Number.NaN, 2, 0)], 2, 'logits', ['zoom 0.9'])
 * assert.ok(E.isLeft(bad) && bad.left.message.includes("'zoom 0.9'") && bad.left.message.includes('item 0'))
 * @category constructors
 */
export const cachePredictions = (
  raws: readonly Float32Array[],
  classes: number,
  scores: ScoreKind,
  names: readonly string[],
): E.Either<PolicyError, CachedPredictions> => {
  if (!Number.isInteger(classes) || classes < 2) return E.left(policyError('selection', `a policy search needs at least 2 classes, got ${classes}`))
  const items = (raws[0]?.length ?? 0) / classes
  if (!Number.isInteger(items) || items < 1) return E.left(policyError('selection', `the outputs do not hold whole rows of ${classes} classes`))
  const views: CachedView[] = []
  for (const [v, raw] of raws.entries()) {
    const name = names[v] ?? `view ${v}`
    if (raw.length !== items * classes) return E.left(policyError('candidate', `candidate '${name}' gave ${raw.length} outputs, the others ${items * classes}`))
    const badItems: number[] = []
    for (let i = 0; i < items && badItems.length < 5; i++) {
      for (let c = 0; c < classes; c++) {
        const x = raw[i * classes + c] ?? Number.NaN
        if (!Number.isFinite(x) || (scores === 'probabilities' && (x < 0 || x > 1))) { badItems.push(i); break }
      }
    }
    if (badItems.length > 0) {
      return E.left(policyError('candidate', `candidate '${name}' gives ${scores === 'probabilities' ? 'non-finite or out-of-range' : 'non-finite'} outputs on item ${badItems.join(', ')}${badItems.length === 5 ? ' and maybe more' : ''}`))
    }
    const probs = new Float64Array(items * classes)
    const top = new Int32Array(items)
    for (let i = 0; i < items; i++) {
      const base = i * classes
      let best = 0
      for (let c = 1; c < classes; c++) if ((raw[base + c] ?? 0) > (raw[base + best] ?? 0)) best = c
      top[i] = best
      if (scores === 'logits') {
        const max = raw[base + best] ?? 0
        let sum = 0
        for (let c = 0; c < classes; c++) { const e = Math.exp((raw[base + c] ?? 0) - max); probs[base + c] = e; sum += e }
        for (let c = 0; c < classes; c++) probs[base + c] = (probs[base + c] ?? 0) / sum
      } else {
        for (let c = 0; c < classes; c++) probs[base + c] = raw[base + c] ?? 0
      }
    }
    views.push({ raw, probs, logProbs: probs.map(Math.log), sqrtProbs: probs.map(Math.sqrt), top })
  }
  return E.right({ items, classes, scores, views })
}
