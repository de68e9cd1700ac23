/**
 * Scoring merged predictions on a labelled set, for the policy search: the negative
 * log-likelihood after temperature calibration (a proper score: it rewards confident right answers
 * and punishes confident wrong ones, and the temperature keeps a merge from being judged by how
 * sharp it happens to be), and accuracy. Scores are rows of `classes` values, as
 * {@link scoresOf} makes them from a merge.
 *
 * @since 0.4.0
 */

/** Most confident temperature the fit may choose (1/T). */
const MAX_BETA = 1e3
/** Least confident temperature the fit may choose (1/T). */
const MIN_BETA = 1e-3
/** Stands in for log 0, so that a class a merge rules out costs a lot instead of NaN. */
const LOG_FLOOR = -745

/**
 * Mean negative log-likelihood of the labels under softmax(β · scores), and its first two
 * derivatives in β (the problem is convex in β).
 * @internal
 */
export const nllAt = (scores: Float64Array, labels: ArrayLike<number>, classes: number, beta: number): { nll: number; d1: number; d2: number } => {
  const n = labels.length
  let nll = 0
  let d1 = 0
  let d2 = 0
  for (let i = 0; i < n; i++) {
    const base = i * classes
    let max = -Infinity
    for (let c = 0; c < classes; c++) {
      const s = scores[base + c] ?? 0
      if (s > max) max = s
    }
    let z = 0
    let m1 = 0
    let m2 = 0
    for (let c = 0; c < classes; c++) {
      const s = scores[base + c] ?? 0
      const e = Math.exp(beta * (s - max))
      z += e
      m1 += e * s
      m2 += e * s * s
    }
    m1 /= z
    m2 /= z
    const y = scores[base + (labels[i] ?? 0)] ?? 0
    nll += beta * (max - y) + Math.log(z)
    d1 += m1 - y
    d2 += m2 - m1 * m1
  }
  return { nll: nll / n, d1: d1 / n, d2: d2 / n }
}

/** A merge's score on a labelled set: its calibrated NLL, the temperature that gives it, and accuracy. @category model */
export interface Scored {
  readonly nll: number
  readonly temperature: number
  readonly accuracy: number
  readonly predictions: Int32Array
}

/**
 * The temperature T that minimises the NLL of softmax(scores / T) on the labels (Newton's method on
 * 1/T, safeguarded; T is kept within [0.001, 1000]), with the NLL it gives, the accuracy and the
 * predicted classes (argmax, first on ties).
 * @example
 * import { fitTemperature } from 'tta-lens'
 * // Two images, two classes, both right but over-confident scores: a temperature above 1 fits.
 * const scored = fitTemperature(Float64Array.of(10, 0, 0, 10, 10, 0), [0, 1, 1], 2)
 * assert.ok(scored.temperature > 1 && scored.accuracy === 2 / 3)
 * assert.deepStrictEqual(Array.from(scored.predictions), [0, 1, 0])
 * @category evaluation
 */
export const fitTemperature = (given: Float64Array, labels: ArrayLike<number>, classes: number): Scored => {
  const n = labels.length
  if (given.length !== n * classes || n === 0) return { nll: Number.NaN, temperature: 1, accuracy: 0, predictions: new Int32Array(n) }
  // Floor log 0 (a class a merge rules out) so that it costs a lot instead of giving NaN.
  const scores = given.map((s) => (s > LOG_FLOOR ? s : Number.isNaN(s) ? Number.NaN : LOG_FLOOR))
  let beta = 1
  let at = nllAt(scores, labels, classes, beta)
  for (let iteration = 0; iteration < 60; iteration++) {
    // A Newton step on a convex function, halved until it lowers the NLL and stays in bounds.
    let step = at.d2 > 1e-12 ? -at.d1 / at.d2 : -Math.sign(at.d1) * beta
    // At the optimum the step vanishes: stop instead of halving it against rounding noise.
    if (Math.abs(step) < 1e-7 * beta) break
    let moved = false
    for (let k = 0; k < 30; k++) {
      const next = Math.min(MAX_BETA, Math.max(MIN_BETA, beta + step))
      const tried = nllAt(scores, labels, classes, next)
      if (tried.nll < at.nll) {
        moved = Math.abs(next - beta) > 1e-9 * beta
        beta = next
        at = tried
        break
      }
      step /= 2
    }
    if (!moved) break
  }
  const predictions = new Int32Array(n)
  let correct = 0
  for (let i = 0; i < n; i++) {
    let best = 0
    for (let c = 1; c < classes; c++) if ((scores[i * classes + c] ?? -Infinity) > (scores[i * classes + best] ?? -Infinity)) best = c
    predictions[i] = best
    if (best === labels[i]) correct++
  }
  return { nll: at.nll, temperature: 1 / beta, accuracy: n === 0 ? 0 : correct / n, predictions }
}
