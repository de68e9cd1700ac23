/**
 * From a merged prediction to calibrated class probabilities: the last step of a searched policy's
 * merge. A merge of logits (mean or weighted) is already a score; a merge of probabilities becomes
 * one by its logarithm; a vote is its one-hot. The score is divided by the temperature fitted on the
 * selection set and put through a softmax along the class axis.
 *
 * The policy search scores candidates with exactly this function, and the wrappers finish a
 * policy's run with it, so what was measured during the search is what runs.
 *
 * @since 0.4.0
 */
import type { ClassLayout } from './prepare.js'

/** How a merged prediction is read as scores before the temperature (see the module description). @category model */
export interface Calibration {
  /** What was merged: the model's logits, or class probabilities. */
  readonly over: 'logits' | 'probabilities'
  /** A vote's one-hot result is used as it is, whatever was merged. */
  readonly vote?: boolean
  /** > 0; the fitted temperature (1 leaves the scores as they are). */
  readonly temperature: number
}

/**
 * The scores of a merged prediction (see {@link Calibration}), in place: log of merged
 * probabilities, logits and votes unchanged, all divided by the temperature.
 * @example
 * import { scoresOf } from 'tta-lens'
 * const s = scoresOf(Float64Array.of(0.5, 0.25), { over: 'probabilities', temperature: 1 })
 * assert.deepStrictEqual(Array.from(s), [Math.log(0.5), Math.log(0.25)])
 * assert.deepStrictEqual(Array.from(scoresOf(Float64Array.of(2, 4), { over: 'logits', temperature: 2 })), [1, 2])
 * @category utils
 */
export const scoresOf = (merged: Float64Array, calibration: Calibration): Float64Array => {
  const logOf = calibration.over === 'probabilities' && calibration.vote !== true
  const inverse = 1 / calibration.temperature
  for (let i = 0; i < merged.length; i++) {
    const v = merged[i] ?? 0
    merged[i] = (logOf ? Math.log(v) : v) * inverse
  }
  return merged
}

/**
 * Calibrated class probabilities from a merged prediction: {@link scoresOf}, then a softmax along
 * the class axis (a sigmoid for one channel). Returns a new array.
 * @example
 * import { calibrate } from 'tta-lens'
 * const layout = { outer: 1, classes: 2, inner: 1 }
 * const p = calibrate(Float32Array.of(0, Math.log(3)), layout, { over: 'logits', temperature: 1 })
 * assert.deepStrictEqual(Array.from(p, (v) => v.toFixed(2)), ['0.25', '0.75'])
 * // a higher temperature softens the same scores
 * const soft = calibrate(Float32Array.of(0, Math.log(3)), layout, { over: 'logits', temperature: 2 })
 * assert.ok((soft[1] ?? 0) < (p[1] ?? 0) && (soft[1] ?? 0) > 0.5)
 * @category combinators
 */
export const calibrate = (merged: ArrayLike<number>, layout: ClassLayout, calibration: Calibration): Float32Array => {
  const scores = scoresOf(Float64Array.from(merged), calibration)
  const { outer, classes, inner } = layout
  const out = new Float32Array(scores.length)
  if (classes === 1) {
    for (let i = 0; i < scores.length; i++) out[i] = 1 / (1 + Math.exp(-(scores[i] ?? 0)))
    return out
  }
  for (let o = 0; o < outer; o++) {
    for (let p = 0; p < inner; p++) {
      const base = o * classes * inner + p
      let max = -Infinity
      for (let c = 0; c < classes; c++) max = Math.max(max, scores[base + c * inner] ?? -Infinity)
      if (max === -Infinity) {
        // Every class's merged probability underflowed to 0 (a gmean of views that each rule out
        // every other's class): no class has support, so none is preferred.
        for (let c = 0; c < classes; c++) out[base + c * inner] = 1 / classes
        continue
      }
      let sum = 0
      for (let c = 0; c < classes; c++) sum += Math.exp((scores[base + c * inner] ?? 0) - max)
      for (let c = 0; c < classes; c++) out[base + c * inner] = Math.exp((scores[base + c * inner] ?? 0) - max) / sum
    }
  }
  return out
}
