/**
 * Fitted merges: per-view weights (or per-view, per-class weights) and a temperature, fitted on the
 * selection set by minimising the negative log-likelihood of the merged prediction.
 *
 * - Over logits (a weighted geometric pool): scores = Σ_v w_v · z_v. For a fixed temperature the
 *   NLL is convex in the weights. Merge logits when the views are variations the model handles
 *   alike (its logits are on one scale): the weights then say how much to trust each view.
 * - Over probabilities (a linear pool): scores = log Σ_v w_v · p_v. Merge probabilities when views
 *   can be confidently wrong (a view the model was not trained for): one view's extreme logit
 *   cannot outvote the others, it can at most take its weight's share of the probability.
 *
 * Weights are kept on the simplex (≥ 0, summing to 1 over the views, per class when per class) by
 * writing them as a softmax of free parameters; the inverse temperature as the exponential of one.
 * Adam on the full-batch gradient, starting from uniform weights; the best point seen is kept, so
 * the fit is never worse than the uniform merge it starts from.
 *
 * Laws (spec/laws/fitted): weights ≥ 0 and sum to 1; uniform weights give the mean merge.
 *
 * @since 0.4.0
 */
import type { CachedPredictions } from './cached.js'
import { fitTemperature } from './score.js'

/** What to fit (see the module description). @category model */
export interface FitOptions {
  readonly over: 'logits' | 'probabilities'
  /** One weight per view and class (else one per view). */
  readonly perClass: boolean
  /** Adam steps; default 300. */
  readonly iterations?: number
  /** Adam's step size; default 0.05. */
  readonly learningRate?: number
}

/** A fitted merge: its weights (one row per view), temperature, and NLL on the items it was fitted on. @category model */
export interface FittedMerge {
  readonly weights: readonly (readonly number[])[]
  readonly temperature: number
  readonly nll: number
}

const valueOf = (cache: CachedPredictions, over: FitOptions['over'], v: number): Float32Array | Float64Array | undefined =>
  over === 'logits' ? cache.views[v]?.raw : cache.views[v]?.probs

/**
 * The scores (before the temperature) of a weighted merge of `views` on the given items (all when
 * `items` is undefined): Σ w·z over logits, or log Σ w·p over probabilities.
 * @category evaluation
 */
export const weightedScores = (
  cache: CachedPredictions,
  views: readonly number[],
  weights: readonly (readonly number[])[],
  over: FitOptions['over'],
  items?: readonly number[],
): Float64Array => {
  const { classes } = cache
  const list = items ?? Array.from({ length: cache.items }, (_, i) => i)
  const out = new Float64Array(list.length * classes)
  views.forEach((v, k) => {
    const x = valueOf(cache, over, v)
    const row = weights[k] ?? []
    if (x === undefined) return
    list.forEach((i, n) => {
      for (let c = 0; c < classes; c++) out[n * classes + c] = (out[n * classes + c] ?? 0) + (row.length === 1 ? row[0] ?? 0 : row[c] ?? 0) * (x[i * classes + c] ?? 0)
    })
  })
  if (over === 'probabilities') for (let i = 0; i < out.length; i++) out[i] = Math.log(out[i] ?? 0)
  return out
}

/**
 * Fits weights (on the simplex) and a temperature for merging `views` on the given items (all when
 * `items` is undefined), by minimising the NLL of the labels.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { cachePredictions, fitWeights } from 'tta-lens'
 * // View 0 is right on both items, view 1 is wrong on both: the fit trusts view 0.
 * const cache = cachePredictions([Float32Array.of(2, 0, 0, 2), Float32Array.of(0, 2, 2, 0)], 2, 'logits', ['a', 'b'])
 * assert.ok(E.isRight(cache))
 * const fit = fitWeights(cache.right, [0, 1], [0, 1], { over: 'logits', perClass: false })
 * const [w0 = 0, w1 = 0] = fit.weights.map((row) => row[0] ?? 0)
 * assert.ok(w0 > 0.9 && Math.abs(w0 + w1 - 1) < 1e-12)
 * @category evaluation
 */
export const fitWeights = (
  cache: CachedPredictions,
  views: readonly number[],
  labels: ArrayLike<number>,
  options: FitOptions,
  items?: readonly number[],
): FittedMerge => {
  const { classes } = cache
  const V = views.length
  const G = options.perClass ? classes : 1
  const list = items ?? Array.from({ length: cache.items }, (_, i) => i)
  const N = list.length
  const xs = views.map((v) => valueOf(cache, options.over, v) ?? new Float32Array(0))
  const theta = new Float64Array(V * G)
  const uniform = Array.from({ length: V }, () => new Array<number>(G).fill(1 / V))
  const start = fitTemperature(weightedScores(cache, views, uniform, options.over, list), Array.from(list, (i) => labels[i] ?? 0), classes)
  let logBeta = Math.log(1 / start.temperature)
  const params = V * G + 1
  const m = new Float64Array(params)
  const s = new Float64Array(params)
  const lr = options.learningRate ?? 0.05
  const iterations = options.iterations ?? 300
  let best: FittedMerge = { weights: uniform, temperature: start.temperature, nll: start.nll }
  const w = new Float64Array(V * G)
  const gw = new Float64Array(V * G)
  const q = new Float64Array(classes)
  const pi = new Float64Array(classes)
  for (let step = 1; step <= iterations + 1; step++) {
    for (let g = 0; g < G; g++) {
      let max = -Infinity
      for (let v = 0; v < V; v++) max = Math.max(max, theta[v * G + g] ?? 0)
      let sum = 0
      for (let v = 0; v < V; v++) { const e = Math.exp((theta[v * G + g] ?? 0) - max); w[v * G + g] = e; sum += e }
      for (let v = 0; v < V; v++) w[v * G + g] = (w[v * G + g] ?? 0) / sum
    }
    const beta = Math.exp(logBeta)
    gw.fill(0)
    let loss = 0
    let gBeta = 0
    for (const i of list) {
      const y = labels[i] ?? 0
      for (let c = 0; c < classes; c++) {
        let acc = 0
        for (let v = 0; v < V; v++) acc += (w[v * G + (G === 1 ? 0 : c)] ?? 0) * (xs[v]?.[i * classes + c] ?? 0)
        q[c] = options.over === 'logits' ? acc : Math.log(Math.max(acc, 1e-300))
      }
      let max = -Infinity
      for (let c = 0; c < classes; c++) max = Math.max(max, beta * (q[c] ?? 0))
      let z = 0
      for (let c = 0; c < classes; c++) { const e = Math.exp(beta * (q[c] ?? 0) - max); pi[c] = e; z += e }
      loss += max + Math.log(z) - beta * (q[y] ?? 0)
      let expected = 0
      for (let c = 0; c < classes; c++) {
        pi[c] = (pi[c] ?? 0) / z
        expected += (pi[c] ?? 0) * (q[c] ?? 0)
        // d loss / d score_c, then through the pool to the weights.
        const dScore = beta * ((pi[c] ?? 0) - (c === y ? 1 : 0))
        const dPool = options.over === 'logits' ? dScore : dScore / Math.max(Math.exp(q[c] ?? 0), 1e-300)
        for (let v = 0; v < V; v++) {
          const k = v * G + (G === 1 ? 0 : c)
          gw[k] = (gw[k] ?? 0) + dPool * (xs[v]?.[i * classes + c] ?? 0)
        }
      }
      gBeta += expected - (q[y] ?? 0)
    }
    loss /= N
    if (loss < best.nll) {
      best = { weights: Array.from({ length: V }, (_, v) => Array.from({ length: G }, (_, g) => w[v * G + g] ?? 0)), temperature: 1 / beta, nll: loss }
    }
    if (step > iterations) break
    // Through the softmax over views (per group) to the free parameters; Adam on all of them.
    const grad = new Float64Array(params)
    for (let g = 0; g < G; g++) {
      let mean = 0
      for (let v = 0; v < V; v++) mean += (w[v * G + g] ?? 0) * (gw[v * G + g] ?? 0)
      for (let v = 0; v < V; v++) grad[v * G + g] = ((w[v * G + g] ?? 0) * ((gw[v * G + g] ?? 0) - mean)) / N
    }
    grad[V * G] = (gBeta / N) * beta
    for (let k = 0; k < params; k++) {
      const gk = grad[k] ?? 0
      m[k] = 0.9 * (m[k] ?? 0) + 0.1 * gk
      s[k] = 0.999 * (s[k] ?? 0) + 0.001 * gk * gk
      const update = (lr * ((m[k] ?? 0) / (1 - 0.9 ** step))) / (Math.sqrt((s[k] ?? 0) / (1 - 0.999 ** step)) + 1e-8)
      if (k < V * G) theta[k] = (theta[k] ?? 0) - update
      else logBeta -= update
    }
  }
  return best
}
