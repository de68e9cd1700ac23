/**
 * Greedy policy search (as in Molchanov et al., 2020) on cached per-view predictions: starting from
 * nothing, each step adds the candidate view that most lowers the negative log-likelihood of the
 * merged prediction after temperature calibration, trying every merge mode for it (accuracy breaks
 * ties); the search stops when no view helps or the budget is spent. The empty policy's answer —
 * no TTA, the identity alone — is step 0 and every later step must beat the one before, so the
 * result is never worse than no TTA on the selection set. Then fitted weights (per view, per class;
 * over logits, over probabilities) are tried on the chosen views and kept only if they win a 2-fold
 * cross-validation on the selection set *and* lower its NLL.
 *
 * Every number here is computed on the cache: the model is never called (see `collectPredictions`).
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { policyError, type PolicyError } from '../errors.js'
import type { CachedPredictions } from './cached.js'
import { fitWeights, weightedScores, type FitOptions } from './fit.js'
import { commit, describeMerge, emptyState, scoresWith, searchMerges, type PolicyMerge, type UniformMerge } from './merges.js'
import { fitTemperature, type Scored } from './score.js'

/** How far a search may go. @category model */
export interface SearchBudget {
  /** Most views in the policy = model calls per input (each view is one forward pass of each input). */
  readonly views: number
}

/** Options of {@link searchPolicy}. @category model */
export interface SearchOptions {
  readonly budget: SearchBudget
  /** Try fitted weights on the chosen views (default true). */
  readonly fit?: boolean
  /** Called after each step. */
  readonly onStep?: (step: SearchStep) => void
}

/** One row of the search's step table. @category model */
export interface SearchStep {
  readonly step: number
  /** `none` (step 0, no TTA), `add` (a view joined), or `fit` (fitted weights replaced the uniform merge). */
  readonly action: 'none' | 'add' | 'fit'
  /** The view added (index into the pool), for `add`. */
  readonly view?: number
  readonly views: readonly number[]
  readonly merge: PolicyMerge
  readonly mergeName: string
  readonly nll: number
  readonly accuracy: number
  /** Items this step got right that the step before got wrong, and the reverse. */
  readonly fixed: number
  readonly broken: number
}

/** What a search found. @category model */
export interface SearchResult {
  readonly steps: readonly SearchStep[]
  /** The chosen views (indices into the pool, in the order they were added) and merge. */
  readonly views: readonly number[]
  readonly merge: PolicyMerge
  /** The last step's score. */
  readonly chosen: SearchStep
  /** No TTA's score (step 0). */
  readonly baseline: SearchStep
  /** Cross-validated NLL of the uniform merge and of each fitted merge tried (empty when none was). */
  readonly crossValidation: readonly { readonly merge: string; readonly nll: number }[]
}

/** Values closer than this are a tie (then accuracy decides, then the earlier candidate). */
const TIE = 1e-12

const better = (a: { nll: number; accuracy: number }, b: { nll: number; accuracy: number }): boolean =>
  a.nll < b.nll - TIE || (Math.abs(a.nll - b.nll) <= TIE && a.accuracy > b.accuracy)

const changes = (before: Int32Array, after: Int32Array, labels: ArrayLike<number>): { fixed: number; broken: number } => {
  let fixed = 0
  let broken = 0
  for (let i = 0; i < after.length; i++) {
    const was = before[i] === labels[i]
    const is = after[i] === labels[i]
    if (is && !was) fixed++
    if (was && !is) broken++
  }
  return { fixed, broken }
}

/**
 * Checks the selection labels (every class present, in range) and the budget. The errors name the
 * missing classes or the bad budget.
 * @internal
 */
export const checkSearch = (cache: CachedPredictions, labels: ArrayLike<number>, budget: SearchBudget): E.Either<PolicyError, void> => {
  const views = typeof budget === 'object' && budget !== null ? budget.views : Number.NaN
  if (typeof views !== 'number' || !Number.isInteger(views) || views < 1) {
    return E.left(policyError('budget', `a search budget is a whole number of views ≥ 1 (model calls per input), got ${String(views)}`))
  }
  if (labels.length !== cache.items) return E.left(policyError('selection', `the selection set has ${labels.length} labels but ${cache.items} predictions`))
  const seen = new Array<number>(cache.classes).fill(0)
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] ?? -1
    if (!Number.isInteger(y) || y < 0 || y >= cache.classes) return E.left(policyError('selection', `label ${y} of item ${i} is not one of the model's ${cache.classes} classes`))
    seen[y] = (seen[y] ?? 0) + 1
  }
  const missing = seen.flatMap((count, c) => (count === 0 ? [c] : []))
  if (missing.length > 0) {
    return E.left(policyError('selection', `the selection set has no item of class ${missing.join(', ')}: a policy chosen on it would never be tested on ${missing.length === 1 ? 'that class' : 'those classes'}`))
  }
  if (cache.views.length === 0) return E.left(policyError('candidate', 'the candidate pool is empty'))
  return E.right(undefined)
}

/**
 * Runs the greedy search on cached predictions of a candidate pool whose first view is the
 * identity (no TTA).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { cachePredictions, searchPolicy } from 'tta-lens'
 * // Four items of two classes. The identity is wrong on item 3; view 1 is right everywhere.
 * const identity = Float32Array.of(3, 0, 0, 3, 3, 0, 2, 0)
 * const good = Float32Array.of(2, 0, 0, 2, 2, 0, 0, 2)
 * const cache = cachePredictions([identity, good], 2, 'logits', ['identity', 'good'])
 * assert.ok(E.isRight(cache))
 * const found = searchPolicy(cache.right, [0, 1, 0, 1], { budget: { views: 2 } })
 * assert.ok(E.isRight(found))
 * assert.strictEqual(found.right.baseline.accuracy, 0.75)
 * assert.ok(found.right.chosen.accuracy === 1 && found.right.chosen.nll < found.right.baseline.nll)
 * assert.ok(found.right.views.includes(1))
 * @category evaluation
 */
export const searchPolicy = (cache: CachedPredictions, labels: ArrayLike<number>, options: SearchOptions): E.Either<PolicyError, SearchResult> => {
  const ok = checkSearch(cache, labels, options.budget)
  if (E.isLeft(ok)) return ok
  const { classes, items } = cache
  const size = items * classes
  const merges = searchMerges(cache.scores)
  const scratch = new Float64Array(size)
  const state = emptyState(size)
  const steps: SearchStep[] = []
  const record = (step: SearchStep): void => { steps.push(step); options.onStep?.(step) }

  // Step 0: no TTA — the identity alone, calibrated like everything else.
  const noTta: UniformMerge = cache.scores === 'logits' ? { mode: 'mean', over: 'logits' } : { mode: 'mean', over: 'probabilities' }
  const base = fitTemperature(scoresWith(scratch, state, cache, 0, noTta), labels, classes)
  let current: { scored: Scored; merge: UniformMerge; views: number[] } = { scored: base, merge: noTta, views: [0] }
  const baseline: SearchStep = {
    step: 0, action: 'none', views: [0], merge: { ...noTta, temperature: base.temperature }, mergeName: 'none (single pass)',
    nll: base.nll, accuracy: base.accuracy, fixed: 0, broken: 0,
  }
  record(baseline)

  const chosen: number[] = []
  let previous = base.predictions
  while (chosen.length < options.budget.views) {
    let best: { scored: Scored; merge: UniformMerge; view: number } | undefined
    for (let v = 0; v < cache.views.length; v++) {
      if (chosen.includes(v)) continue
      for (const merge of merges) {
        // One view merges to itself under every mode but vote: score it once.
        if (chosen.length === 0 && merge !== merges[0] && merge.mode !== 'vote') continue
        const scored = fitTemperature(scoresWith(scratch, state, cache, v, merge), labels, classes)
        if (!Number.isFinite(scored.nll)) continue
        if (best === undefined || better(scored, best.scored)) best = { scored, merge, view: v }
      }
    }
    // The first view is chosen even when it is the identity (it is the empty policy's view); every
    // later one must beat the step before.
    if (best === undefined || (chosen.length > 0 && !better(best.scored, current.scored))) break
    if (chosen.length === 0 && !better(best.scored, current.scored)) {
      best = { scored: current.scored, merge: current.merge, view: 0 }
    }
    chosen.push(best.view)
    commit(state, cache, best.view)
    const moved = changes(previous, best.scored.predictions, labels)
    previous = best.scored.predictions
    current = { scored: best.scored, merge: best.merge, views: [...chosen] }
    record({
      step: steps.length, action: 'add', view: best.view, views: [...chosen],
      merge: { ...best.merge, temperature: best.scored.temperature }, mergeName: describeMerge(best.merge),
      nll: best.scored.nll, accuracy: best.scored.accuracy, ...moved,
    })
  }

  let merge: PolicyMerge = { ...current.merge, temperature: current.scored.temperature }
  const crossValidation: { merge: string; nll: number }[] = []
  if (options.fit !== false && chosen.length >= 2) {
    const fitted = tryFitted(cache, chosen, labels, current.merge, crossValidation)
    if (fitted !== undefined && better(fitted.scored, current.scored)) {
      merge = fitted.merge
      record({
        step: steps.length, action: 'fit', views: [...chosen], merge, mergeName: describeMerge(merge),
        nll: fitted.scored.nll, accuracy: fitted.scored.accuracy, ...changes(previous, fitted.scored.predictions, labels),
      })
    }
  }
  const last = steps[steps.length - 1] ?? baseline
  return E.right({ steps, views: chosen.length === 0 ? [0] : chosen, merge, chosen: last, baseline, crossValidation })
}

/** Two folds by item parity: fit on one, score on the other, both ways. */
const folds = (items: number): readonly (readonly [readonly number[], readonly number[]])[] => {
  const even = Array.from({ length: Math.ceil(items / 2) }, (_, k) => 2 * k)
  const odd = Array.from({ length: Math.floor(items / 2) }, (_, k) => 2 * k + 1)
  return [[even, odd], [odd, even]]
}

const uniformScores = (cache: CachedPredictions, views: readonly number[], merge: UniformMerge, subset: readonly number[]): Float64Array => {
  // The uniform merge on a subset of items: rebuild its running sums on the chosen views.
  const state = emptyState(cache.items * cache.classes)
  for (const v of views) commit(state, cache, v)
  const all = scoresWith(new Float64Array(cache.items * cache.classes), state, cache, undefined, merge)
  const out = new Float64Array(subset.length * cache.classes)
  subset.forEach((i, n) => out.set(all.subarray(i * cache.classes, (i + 1) * cache.classes), n * cache.classes))
  return out
}

const pick = (labels: ArrayLike<number>, subset: readonly number[]): number[] => subset.map((i) => labels[i] ?? 0)

/** NLL on `test` at the temperature fitted on `train`. */
const heldOut = (train: Float64Array, test: Float64Array, trainLabels: readonly number[], testLabels: readonly number[], classes: number): number => {
  const t = fitTemperature(train, trainLabels, classes).temperature
  const scaled = test.map((s) => s / t)
  return fitTemperatureAt1(scaled, testLabels, classes)
}

/** The NLL at temperature 1 (no refit): how a temperature chosen elsewhere does here. */
const fitTemperatureAt1 = (scores: Float64Array, labels: readonly number[], classes: number): number => {
  let nll = 0
  for (let i = 0; i < labels.length; i++) {
    let max = -Infinity
    for (let c = 0; c < classes; c++) max = Math.max(max, scores[i * classes + c] ?? -Infinity)
    let z = 0
    for (let c = 0; c < classes; c++) z += Math.exp((scores[i * classes + c] ?? -Infinity) - max)
    nll += max + Math.log(z) - Math.max(-745, scores[i * classes + (labels[i] ?? 0)] ?? -745)
  }
  return nll / labels.length
}

const tryFitted = (
  cache: CachedPredictions,
  views: readonly number[],
  labels: ArrayLike<number>,
  uniform: UniformMerge,
  report: { merge: string; nll: number }[],
): { merge: PolicyMerge; scored: Scored } | undefined => {
  const { classes } = cache
  const kinds: readonly FitOptions[] = [
    ...(cache.scores === 'logits' ? [{ over: 'logits', perClass: false } as const, { over: 'logits', perClass: true } as const] : []),
    { over: 'probabilities', perClass: false },
    { over: 'probabilities', perClass: true },
  ]
  const cv = (score: (train: readonly number[], test: readonly number[]) => number): number => {
    let total = 0
    let count = 0
    for (const [train, test] of folds(cache.items)) { total += score(train, test) * test.length; count += test.length }
    return total / count
  }
  const uniformCv = cv((train, test) =>
    heldOut(uniformScores(cache, views, uniform, train), uniformScores(cache, views, uniform, test), pick(labels, train), pick(labels, test), classes))
  report.push({ merge: describeMerge(uniform), nll: uniformCv })
  let winner: { kind: FitOptions; nll: number } | undefined
  for (const kind of kinds) {
    const nll = cv((train, test) => {
      const fitted = fitWeights(cache, views, labels, kind, train)
      const scores = weightedScores(cache, views, fitted.weights, kind.over, test).map((s) => s / fitted.temperature)
      return fitTemperatureAt1(scores, pick(labels, test), classes)
    })
    const name = describeMerge({ mode: 'sum', over: kind.over, weights: [kind.perClass ? new Array<number>(classes).fill(0) : [0]] })
    report.push({ merge: name, nll })
    if (nll < uniformCv - TIE && (winner === undefined || nll < winner.nll)) winner = { kind, nll }
  }
  if (winner === undefined) return undefined
  const fitted = fitWeights(cache, views, labels, winner.kind)
  const scored = fitTemperature(weightedScores(cache, views, fitted.weights, winner.kind.over), labels, classes)
  return { merge: { mode: 'sum', over: winner.kind.over, weights: fitted.weights, temperature: scored.temperature }, scored }
}
