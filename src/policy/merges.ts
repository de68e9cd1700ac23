/**
 * The merges a policy can use, as data, and their computation on cached per-view predictions —
 * exactly what the wrappers compute at run time for the same views (the same accumulator
 * semantics, the same calibration), so that a score measured during the search is the score the
 * shipped policy gets.
 *
 * | mode | over | what is merged | read as scores |
 * | --- | --- | --- | --- |
 * | `mean` | `logits` | the model's logits, averaged | as they are |
 * | `mean` | `probabilities` | softmax of each view, averaged (linear pool) | log |
 * | `gmean` | `probabilities` | geometric mean of probabilities (log-linear pool) | log |
 * | `tsharpen` | `probabilities` | mean of √p (ttach's) | log |
 * | `max` | `probabilities` | the largest probability of any view | log |
 * | `vote` | either | one-hot majority of the views' top classes | as it is |
 * | `sum` + weights | either | Σ w·x with fitted weights summing to 1 (per view or per class) | as they are / log |
 *
 * Then divided by the fitted temperature and put through a softmax.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { policyError, type PolicyError } from '../errors.js'
import type { Calibration } from '../merge/calibrate.js'
import { scoresOf } from '../merge/calibrate.js'
import type { MergeMode } from '../merge/merge.js'
import type { ViewPreparation } from '../merge/prepare.js'
import type { ScoreKind } from '../merge/spread.js'
import type { CachedPredictions } from './cached.js'

/** The merge modes a policy may use. @category model */
export type PolicyMergeMode = 'mean' | 'gmean' | 'tsharpen' | 'max' | 'vote' | 'sum'

/** A policy's merge (see the module's table). @category model */
export interface PolicyMerge {
  readonly mode: PolicyMergeMode
  readonly over: 'logits' | 'probabilities'
  /** Only with `sum`: one row per view, of 1 weight or one per class; each class's weights sum to 1. */
  readonly weights?: readonly (readonly number[])[]
  /** > 0, fitted on the selection set. */
  readonly temperature: number
}

/** A merge without its temperature: what the search compares. @category model */
export type MergeChoice = Omit<PolicyMerge, 'temperature'>

/** A merge with equal weights for every view (every mode but the fitted `sum`). @category model */
export interface UniformMerge {
  readonly mode: Exclude<PolicyMergeMode, 'sum'>
  readonly over: 'logits' | 'probabilities'
}

/**
 * The uniform merges the search tries for a model that returns `scores`.
 * @example
 * import { searchMerges } from 'tta-lens'
 * assert.deepStrictEqual(searchMerges('logits').map((m) => `${m.mode}/${m.over}`),
 *   ['mean/logits', 'mean/probabilities', 'gmean/probabilities', 'tsharpen/probabilities', 'max/probabilities', 'vote/logits'])
 * @category model
 */
export const searchMerges = (scores: ScoreKind): readonly UniformMerge[] => [
  ...(scores === 'logits' ? [{ mode: 'mean', over: 'logits' } as const] : []),
  { mode: 'mean', over: 'probabilities' },
  { mode: 'gmean', over: 'probabilities' },
  { mode: 'tsharpen', over: 'probabilities' },
  { mode: 'max', over: 'probabilities' },
  { mode: 'vote', over: scores },
]

/**
 * A merge in words, for tables.
 * @example
 * import { describeMerge } from 'tta-lens'
 * assert.strictEqual(describeMerge({ mode: 'mean', over: 'logits' }), 'mean of logits')
 * assert.strictEqual(describeMerge({ mode: 'sum', over: 'logits', weights: [[0.4], [0.6]] }), 'fitted weights per view (logits)')
 * @category utils
 */
export const describeMerge = (m: MergeChoice): string => {
  switch (m.mode) {
    case 'mean': return `mean of ${m.over}`
    case 'sum': return `fitted weights per ${(m.weights?.[0]?.length ?? 1) > 1 ? 'class' : 'view'} (${m.over})`
    default: return m.mode
  }
}

/**
 * Checks a merge against the model's scores and the number of views and classes: modes that need
 * probabilities get them, weights only with `sum`, one row per view, each class's weights ≥ 0 and
 * summing to 1, a finite temperature > 0.
 * @internal
 */
export const checkMerge = (m: PolicyMerge, scores: ScoreKind, views: number, classes: number): E.Either<PolicyError, PolicyMerge> => {
  const bad = (message: string): E.Either<PolicyError, PolicyMerge> => E.left(policyError('corrupt', `the policy's merge: ${message}`))
  if (!(Number.isFinite(m.temperature) && m.temperature > 0)) return bad(`temperature must be a number > 0, got ${m.temperature}`)
  if (m.over === 'logits' && scores === 'probabilities') return bad('the model returns probabilities, so nothing merges logits')
  if (m.over === 'logits' && (m.mode === 'gmean' || m.mode === 'tsharpen' || m.mode === 'max')) return bad(`${m.mode} merges probabilities, not logits`)
  if ((m.mode === 'sum') !== (m.weights !== undefined)) return bad("weights go with mode 'sum' (a fitted weighted mean), and 'sum' needs weights")
  if (m.weights !== undefined) {
    if (m.weights.length !== views) return bad(`${m.weights.length} weight rows for ${views} views`)
    const width = m.weights[0]?.length ?? 0
    if ((width !== 1 && width !== classes) || m.weights.some((row) => row.length !== width)) return bad(`every weight row holds 1 weight or ${classes} (one per class)`)
    if (m.weights.some((row) => row.some((w) => !(Number.isFinite(w) && w >= 0)))) return bad('weights must be finite and ≥ 0')
    for (let c = 0; c < width; c++) {
      const total = m.weights.reduce((a, row) => a + (row[c] ?? 0), 0)
      if (Math.abs(total - 1) > 1e-6) return bad(`the weights of ${width === 1 ? 'the views' : `class ${c}`} sum to ${total}, not 1`)
    }
  }
  return E.right(m)
}

/**
 * How the wrappers run a policy merge: the plan's merge mode, the preparation of each view, and
 * the calibration.
 * @example
 * import { runnableMerge } from 'tta-lens'
 * const r = runnableMerge({ mode: 'gmean', over: 'probabilities', temperature: 1.5 }, 'logits')
 * assert.deepStrictEqual(r, { merge: 'gmean', combine: { probabilities: true }, calibration: { over: 'probabilities', temperature: 1.5 } })
 * @category destructors
 */
export const runnableMerge = (m: PolicyMerge, scores: ScoreKind): { merge: MergeMode; combine?: ViewPreparation; calibration: Calibration } => {
  const softmax = m.over === 'probabilities' && scores === 'logits'
  const combine: ViewPreparation = { ...(softmax ? { probabilities: true } : {}), ...(m.weights === undefined ? {} : { weights: m.weights }) }
  return {
    merge: m.mode,
    ...(Object.keys(combine).length === 0 ? {} : { combine }),
    calibration: { over: m.over, ...(m.mode === 'vote' ? { vote: true } : {}), temperature: m.temperature },
  }
}

/**
 * Running sums of the views chosen so far, one per merge, so a candidate's merge with them costs
 * one pass over the set.
 * @internal
 */
export interface MergeState {
  count: number
  readonly sumRaw: Float64Array
  readonly sumProbs: Float64Array
  readonly sumLogProbs: Float64Array
  readonly sumSqrtProbs: Float64Array
  readonly maxProbs: Float64Array
  readonly votes: Float64Array
}

/** @internal */
export const emptyState = (size: number): MergeState => ({
  count: 0,
  sumRaw: new Float64Array(size), sumProbs: new Float64Array(size), sumLogProbs: new Float64Array(size),
  sumSqrtProbs: new Float64Array(size), maxProbs: new Float64Array(size).fill(-Infinity), votes: new Float64Array(size),
})

/** Adds view `v` to the state for good. @internal */
export const commit = (state: MergeState, cache: CachedPredictions, v: number): void => {
  const view = cache.views[v]
  if (view === undefined) return
  const { classes } = cache
  for (let i = 0; i < view.raw.length; i++) {
    state.sumRaw[i] = (state.sumRaw[i] ?? 0) + (view.raw[i] ?? 0)
    state.sumProbs[i] = (state.sumProbs[i] ?? 0) + (view.probs[i] ?? 0)
    state.sumLogProbs[i] = (state.sumLogProbs[i] ?? 0) + (view.logProbs[i] ?? 0)
    state.sumSqrtProbs[i] = (state.sumSqrtProbs[i] ?? 0) + (view.sqrtProbs[i] ?? 0)
    state.maxProbs[i] = Math.max(state.maxProbs[i] ?? -Infinity, view.probs[i] ?? -Infinity)
  }
  for (let n = 0; n < cache.items; n++) {
    const at = n * classes + (view.top[n] ?? 0)
    state.votes[at] = (state.votes[at] ?? 0) + 1
  }
  state.count++
}

/**
 * The scores (before the temperature) of the state's views plus view `v` (or the state's views
 * alone when `v` is undefined) under a uniform merge, written into `out`.
 * @internal
 */
export const scoresWith = (out: Float64Array, state: MergeState, cache: CachedPredictions, v: number | undefined, merge: UniformMerge): Float64Array => {
  const view = v === undefined ? undefined : cache.views[v]
  const k = state.count + (view === undefined ? 0 : 1)
  const { classes, items } = cache
  const sumOf = (acc: Float64Array, add: Float64Array | Float32Array | undefined, i: number): number => (acc[i] ?? 0) + (add?.[i] ?? 0)
  switch (merge.mode) {
    case 'mean':
      if (merge.over === 'logits') for (let i = 0; i < out.length; i++) out[i] = sumOf(state.sumRaw, view?.raw, i) / k
      else for (let i = 0; i < out.length; i++) out[i] = sumOf(state.sumProbs, view?.probs, i) / k
      break
    case 'gmean': for (let i = 0; i < out.length; i++) out[i] = Math.exp(sumOf(state.sumLogProbs, view?.logProbs, i) / k); break
    case 'tsharpen': for (let i = 0; i < out.length; i++) out[i] = sumOf(state.sumSqrtProbs, view?.sqrtProbs, i) / k; break
    case 'max': for (let i = 0; i < out.length; i++) out[i] = Math.max(state.maxProbs[i] ?? -Infinity, view?.probs[i] ?? -Infinity); break
    case 'vote': {
      // Majority of top classes; ties to the larger summed value (of what was merged), then the lower class.
      const sums = merge.over === 'logits' ? state.sumRaw : state.sumProbs
      const added = merge.over === 'logits' ? view?.raw : view?.probs
      for (let n = 0; n < items; n++) {
        let best = 0
        let bestVotes = -1
        let bestSum = -Infinity
        for (let c = 0; c < classes; c++) {
          const i = n * classes + c
          const votes = (state.votes[i] ?? 0) + (view !== undefined && view.top[n] === c ? 1 : 0)
          const sum = sumOf(sums, added, i)
          if (votes > bestVotes || (votes === bestVotes && sum > bestSum)) { best = c; bestVotes = votes; bestSum = sum }
        }
        for (let c = 0; c < classes; c++) out[n * classes + c] = c === best ? 1 : 0
      }
      break
    }
  }
  return scoresOf(out, { over: merge.over, ...(merge.mode === 'vote' ? { vote: true } : {}), temperature: 1 })
}
