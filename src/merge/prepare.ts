/**
 * What happens to one view's prediction, already mapped back into the input's frame, before it
 * joins the running merge: turned into class probabilities (a softmax along the class axis; a
 * sigmoid when there is one channel) and weighted (one weight per view, or one per view and class).
 * With weights that sum to 1 over the views and the `sum` merge, the result is the weighted mean —
 * the "fitted weights" merge of a searched policy. Pure and streaming: one view at a time.
 *
 * Laws (spec/laws/fitted): uniform weights 1/V with `sum` equal the `mean` merge; weights are checked
 * to be finite and ≥ 0.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { paramError, type ParamError } from '../errors.js'

/** Where the class axis sits in a flat prediction: `outer` blocks of `classes` rows of `inner` values (see `voteLayout`). @category model */
export interface ClassLayout {
  readonly outer: number
  readonly classes: number
  readonly inner: number
}

/** How each view's prediction is changed before it is merged (see {@link prepareView}). @category model */
export interface ViewPreparation {
  /** Merge class probabilities instead of the model's scores: softmax along the class axis (a sigmoid for one channel). */
  readonly probabilities?: boolean
  /** One row per view: `[w]` for the whole view, or one weight per class. Finite, ≥ 0. */
  readonly weights?: readonly (readonly number[])[]
}

/**
 * Checks a preparation against the number of views and classes: one weight row per view, each of
 * length 1 or `classes` (while `classes` is unknown, the first row's length), every weight finite and ≥ 0.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { checkPreparation } from 'tta-lens'
 * assert.ok(E.isRight(checkPreparation({ weights: [[0.25], [0.75]] }, 2, 10)))
 * const negative = checkPreparation({ weights: [[1.5], [-0.5]] }, 2, 10)
 * assert.ok(E.isLeft(negative) && negative.left.message.includes('view 1'))
 * assert.ok(E.isLeft(checkPreparation({ weights: [[1]] }, 2, 10)))   // one row for two views
 * @category destructors
 */
export const checkPreparation = (prep: ViewPreparation, views: number, classes: number | undefined): E.Either<ParamError, ViewPreparation> => {
  if (typeof prep !== 'object' || prep === null) return E.left(paramError('combine must be an object { probabilities?, weights? }'))
  if (prep.probabilities !== undefined && typeof prep.probabilities !== 'boolean') return E.left(paramError('combine.probabilities must be true or false'))
  const weights = prep.weights
  if (weights === undefined) return E.right(prep)
  if (!Array.isArray(weights) || weights.length !== views) {
    return E.left(paramError(`combine.weights needs one row per view (${views}), got ${Array.isArray(weights) ? weights.length : String(weights)}`))
  }
  for (const [v, row] of weights.entries()) {
    // Before the model has answered, the number of classes is unknown: any width, if every row has it.
    const width = classes ?? (Array.isArray(weights[0]) ? weights[0].length : 1)
    if (!Array.isArray(row) || (row.length !== 1 && row.length !== width) || row.length === 0) {
      return E.left(paramError(`combine.weights row of view ${v} must hold 1 weight or ${width} (one per class), got ${Array.isArray(row) ? row.length : String(row)}`))
    }
    const bad = row.findIndex((w) => typeof w !== 'number' || !Number.isFinite(w) || w < 0)
    if (bad >= 0) return E.left(paramError(`combine.weights of view ${v} must be finite and ≥ 0, got ${String(row[bad])} at ${bad}`))
  }
  return E.right(prep)
}

/**
 * Turns scores into probabilities along the class axis in place: a softmax (computed stably, in
 * float64), or a sigmoid when there is one class channel.
 * @example
 * import { probabilitiesAlongClasses } from 'tta-lens'
 * const p = probabilitiesAlongClasses(Float64Array.of(0, Math.log(3)), { outer: 1, classes: 2, inner: 1 })
 * assert.deepStrictEqual(Array.from(p, (v) => v.toFixed(2)), ['0.25', '0.75'])
 * const s = probabilitiesAlongClasses(Float64Array.of(0), { outer: 1, classes: 1, inner: 1 })
 * assert.strictEqual(s[0], 0.5)
 * @category utils
 */
export const probabilitiesAlongClasses = (values: Float64Array, layout: ClassLayout): Float64Array => {
  const { outer, classes, inner } = layout
  if (classes === 1) {
    for (let i = 0; i < values.length; i++) values[i] = 1 / (1 + Math.exp(-(values[i] ?? 0)))
    return values
  }
  for (let o = 0; o < outer; o++) {
    for (let p = 0; p < inner; p++) {
      const base = o * classes * inner + p
      let max = -Infinity
      for (let c = 0; c < classes; c++) max = Math.max(max, values[base + c * inner] ?? -Infinity)
      let sum = 0
      for (let c = 0; c < classes; c++) {
        const e = Math.exp((values[base + c * inner] ?? 0) - max)
        values[base + c * inner] = e
        sum += e
      }
      for (let c = 0; c < classes; c++) values[base + c * inner] = (values[base + c * inner] ?? 0) / sum
    }
  }
  return values
}

/**
 * One view's prediction, prepared for the merge: probabilities if asked, then multiplied by the
 * view's weight (or its per-class weights). Works on a copy; `values` is left as it was.
 * @example
 * import { prepareView } from 'tta-lens'
 * const layout = { outer: 1, classes: 2, inner: 1 }
 * const view = Float64Array.of(2, 4)
 * assert.deepStrictEqual(Array.from(prepareView({ weights: [[0.5], [0.25]] }, 1, view, layout)), [0.5, 1])
 * assert.deepStrictEqual(Array.from(prepareView({ weights: [[1, 0], [0, 1]] }, 0, view, layout)), [2, 0])
 * @category combinators
 */
export const prepareView = (prep: ViewPreparation, view: number, values: ArrayLike<number>, layout: ClassLayout): Float64Array => {
  const out = Float64Array.from(values)
  if (prep.probabilities === true) probabilitiesAlongClasses(out, layout)
  const row = prep.weights?.[view]
  if (row === undefined) return out
  const { outer, classes, inner } = layout
  if (row.length === 1) {
    const w = row[0] ?? 1
    for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) * w
    return out
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < classes; c++) {
      const w = row[c] ?? 1
      const base = (o * classes + c) * inner
      for (let p = 0; p < inner; p++) out[base + p] = (out[base + p] ?? 0) * w
    }
  }
  return out
}
