/**
 * Uncertainty from the views of one TTA pass, streamed like the merges: each view's prediction
 * (mapped back into the input's frame) is turned into class probabilities, folded into a few running
 * sums and dropped. Memory is O(output) — about three copies of one prediction — whatever the
 * number of views, never a stack of all of them.
 *
 * Per input (classification) or per pixel (segmentation), with p̄ the mean of the views' class
 * probabilities and n the number of views:
 * - `entropy`: the predictive entropy H(p̄), in nats;
 * - `mutualInformation`: H(p̄) minus the views' mean entropy — the part of the entropy that comes
 *   from the views disagreeing (BALD's measure, with views in place of dropout samples);
 * - `variance`: the variance across views of the class probabilities, averaged over classes
 *   (population variance, Welford's update);
 * - `agreement`: the fraction of views whose own top class is p̄'s top class (1 = unanimous).
 *
 * A single channel is read as a binary map (probability of the foreground), so a sigmoid
 * segmentation map gets the same four measures.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { mergeError, type MergeError } from '../errors.js'
import { probabilitiesAlongClasses, type ClassLayout } from './prepare.js'

/** What the model's per-view outputs are: scores to be turned into probabilities, or probabilities already. @category model */
export type ScoreKind = 'logits' | 'probabilities'

/** The four measures, one value per input (or per pixel): see the module description. @category model */
export interface SpreadMeasures<A = Float32Array> {
  readonly entropy: A
  readonly mutualInformation: A
  readonly variance: A
  readonly agreement: A
}

/** A running uncertainty over views (see {@link spreadAccumulator}). @category model */
export interface SpreadAccumulator {
  /** Adds one view's prediction (in the input's frame); refuses non-finite or out-of-range values without changing the state. */
  readonly add: (view: ArrayLike<number>) => E.Either<MergeError, void>
  /** The measures, `outer × inner` values each; fails when no view was added. */
  readonly result: () => E.Either<MergeError, SpreadMeasures>
  readonly count: () => number
}

const entropyOf = (p: number): number => (p > 0 ? -p * Math.log(p) : 0)

/**
 * A streaming uncertainty accumulator over predictions laid out as `layout` (classes along the
 * middle axis, see `voteLayout`). `scores` says whether each view arrives as logits (softmax, or a
 * sigmoid for one channel, is applied here) or as probabilities (checked to lie in [0, 1]).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { spreadAccumulator } from 'tta-lens'
 * // one image, two classes; two views that disagree completely
 * const acc = spreadAccumulator({ outer: 1, classes: 2, inner: 1 }, 'probabilities')
 * acc.add(Float32Array.of(1, 0))
 * acc.add(Float32Array.of(0, 1))
 * const m = acc.result()
 * assert.ok(E.isRight(m))
 * assert.strictEqual(m.right.entropy[0]?.toFixed(4), Math.log(2).toFixed(4))     // p̄ = (½, ½)
 * assert.strictEqual(m.right.mutualInformation[0]?.toFixed(4), Math.log(2).toFixed(4))   // all of it from disagreement
 * assert.strictEqual(m.right.variance[0], 0.25)
 * assert.strictEqual(m.right.agreement[0], 0.5)
 * @category constructors
 */
export const spreadAccumulator = (layout: ClassLayout, scores: ScoreKind): SpreadAccumulator => {
  const { outer, classes, inner } = layout
  const binary = classes === 1
  const k = binary ? 2 : classes
  const size = outer * k * inner
  const positions = outer * inner
  const sum = new Float64Array(size)
  const m2 = new Float64Array(size)
  const votes = new Float64Array(size)
  const entropies = new Float64Array(positions)
  let n = 0
  // Class c of position (o, p), in the accumulator's layout (k classes even for a binary map).
  const at = (o: number, c: number, p: number): number => (o * k + c) * inner + p

  const add = (view: ArrayLike<number>): E.Either<MergeError, void> => {
    if (view.length !== outer * classes * inner) return E.left(mergeError(`view ${n} has ${view.length} values but the uncertainty holds ${outer * classes * inner}`))
    const probs = Float64Array.from(view)
    for (let i = 0; i < probs.length; i++) {
      const v = probs[i] ?? Number.NaN
      if (!Number.isFinite(v)) return E.left(mergeError(`view ${n} has a non-finite value (${v}) at index ${i}`))
      if (scores === 'probabilities' && (v < 0 || v > 1)) {
        return E.left(mergeError(`view ${n} has ${v} at index ${i}, which is not a probability (pass scores 'logits' if the model returns logits)`))
      }
    }
    if (scores === 'logits') probabilitiesAlongClasses(probs, layout)
    n++
    for (let o = 0; o < outer; o++) {
      for (let p = 0; p < inner; p++) {
        let best = 0
        let bestP = -1
        let h = 0
        for (let c = 0; c < k; c++) {
          const foreground = probs[(o * classes) * inner + p] ?? 0
          const q = binary ? (c === 0 ? 1 - foreground : foreground) : probs[(o * classes + c) * inner + p] ?? 0
          const i = at(o, c, p)
          const before = n === 1 ? 0 : (sum[i] ?? 0) / (n - 1)
          sum[i] = (sum[i] ?? 0) + q
          m2[i] = (m2[i] ?? 0) + (q - before) * (q - (sum[i] ?? 0) / n)
          h += entropyOf(q)
          if (q > bestP) { bestP = q; best = c }
        }
        const vote = at(o, best, p)
        votes[vote] = (votes[vote] ?? 0) + 1
        entropies[o * inner + p] = (entropies[o * inner + p] ?? 0) + h
      }
    }
    return E.right(undefined)
  }

  const result = (): E.Either<MergeError, SpreadMeasures> => {
    if (n === 0) return E.left(mergeError('no uncertainty: no view was added'))
    const entropy = new Float32Array(positions)
    const mutualInformation = new Float32Array(positions)
    const variance = new Float32Array(positions)
    const agreement = new Float32Array(positions)
    for (let o = 0; o < outer; o++) {
      for (let p = 0; p < inner; p++) {
        let h = 0
        let v = 0
        let best = 0
        let bestP = -1
        for (let c = 0; c < k; c++) {
          const mean = (sum[at(o, c, p)] ?? 0) / n
          h += entropyOf(mean)
          v += (m2[at(o, c, p)] ?? 0) / n
          if (mean > bestP) { bestP = mean; best = c }
        }
        const q = o * inner + p
        entropy[q] = h
        // Jensen: H(p̄) ≥ mean H(p); rounding can leave a hair below 0.
        mutualInformation[q] = Math.max(0, h - (entropies[q] ?? 0) / n)
        variance[q] = v / k
        agreement[q] = (votes[at(o, best, p)] ?? 0) / n
      }
    }
    return E.right({ entropy, mutualInformation, variance, agreement })
  }
  return { add, result, count: () => n }
}
