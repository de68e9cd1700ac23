/**
 * Early exit for classification TTA: views run one at a time, in the order given (a searched
 * policy lists its most useful view first), and an input stops receiving views once the views so
 * far agree — every view's top class is the same and the running merge's top class leads the
 * runner-up by at least `margin` in probability. The next view runs only on the inputs still
 * undecided, so confident inputs cost fewer model calls.
 *
 * The merge is the same as the full run's (the same accumulators, views added in the same order),
 * so an input that used every view gets exactly the full run's answer.
 *
 * @since 0.4.0
 */
import { safeString } from '../guard/decode.js'
import * as E from 'fp-ts/lib/Either.js'
import { paramError, type TtaError } from '../errors.js'
import { calibrate, type Calibration } from '../merge/calibrate.js'
import { accumulator, type Accumulator } from '../merge/merge.js'
import { prepareView } from '../merge/prepare.js'
import type { ScoreKind } from '../merge/spread.js'
import { buildPlan } from '../plan/plan.js'
import { run } from '../plan/run.js'
import type { Shape } from '../tensor/shape.js'
import { assumeOutcome, assumeShape, type Tensor } from '../tensor/trusted.js'
import { checkSetup, imageOf } from './common.js'
import { backendFor, cancelOf, modelCaller, type TaskInput } from './execute.js'
import { checkPolicyImage, checkPolicyOutput } from './policy.js'

/** The early-exit rule (see the module description). @category model */
export interface EarlyExit {
  /** In (0, 1]: how far the leading class's probability must be ahead of the runner-up's. */
  readonly margin: number
  /** Views every input gets before it may stop; default 2 (one view cannot disagree with itself). */
  readonly minViews?: number
  /** What the model returns, to read probabilities from; a policy knows it. Default `'logits'`. */
  readonly scores?: ScoreKind
  /** Called once per run with the number of views each input used. */
  readonly onViewsUsed?: (viewsUsed: Int32Array) => void
}

const checkRule = (rule: EarlyExit, views: number): E.Either<TtaError, { margin: number; minViews: number; scores: ScoreKind }> => {
  if (typeof rule !== 'object' || rule === null) return E.left(paramError('earlyExit must be { margin, minViews?, scores? }'))
  const { margin, minViews = 2, scores = 'logits' } = rule
  if (typeof margin !== 'number' || !(margin > 0 && margin <= 1)) return E.left(paramError(`earlyExit.margin must be in (0, 1], got ${safeString(margin)}`))
  if (!Number.isInteger(minViews) || minViews < 1) return E.left(paramError(`earlyExit.minViews must be a positive integer, got ${safeString(minViews)}`))
  if (scores !== 'logits' && scores !== 'probabilities') return E.left(paramError(`earlyExit.scores must be 'logits' or 'probabilities', got ${safeString(scores)}`))
  return E.right({ margin, minViews: Math.min(minViews, views), scores })
}

const argmax = (row: ArrayLike<number>): number => {
  let best = 0
  for (let c = 1; c < row.length; c++) if ((row[c] ?? -Infinity) > (row[best] ?? -Infinity)) best = c
  return best
}

/** Top probability minus the runner-up's. */
const lead = (p: ArrayLike<number>): number => {
  let first = -Infinity
  let second = -Infinity
  for (let c = 0; c < p.length; c++) {
    const v = p[c] ?? -Infinity
    if (v > first) { second = first; first = v } else if (v > second) second = v
  }
  return p.length < 2 ? 1 : first - second
}

/** Runs a classification task with early exit; the result has the same form as the full run's. @internal */
export const runEarlyExit = async <O>(input: TaskInput, image: Tensor<Shape>, extra: readonly unknown[], rule: EarlyExit): Promise<E.Either<TtaError, O>> => {
  if (input.setupError !== undefined) return E.left(input.setupError)
  if (input.uncertainty !== undefined) return E.left(paramError('earlyExit and uncertainty do not go together: an input that stops early has fewer views to measure'))
  const setup = checkSetup(input.transforms, input.merge, input.allowed)
  if (E.isLeft(setup)) return setup
  const checked = checkRule(rule, input.specs.length)
  if (E.isLeft(checked)) return checked
  const { margin, minViews, scores } = checked.right
  const raw = imageOf(image)
  if (E.isLeft(raw)) return raw
  if (input.policy !== undefined) {
    const fits = checkPolicyImage(input.policy, raw.right.shape)
    if (E.isLeft(fits)) return fits
  }
  const backend = await backendFor(input)
  if (E.isLeft(backend)) return backend
  const [n = 0, c = 0, h = 0, w = 0] = raw.right.shape
  const per = c * h * w
  const mode = setup.right
  // The calibration that turns the running merge into probabilities for the margin (and, for a policy, the answer).
  const over: Calibration['over'] = input.combine?.probabilities === true ? 'probabilities' : scores
  const reading: Calibration = input.policy?.calibration ?? { over, temperature: 1, ...(mode === 'vote' ? { vote: true } : {}) }
  const callModel = modelCaller(input, extra)
  const merges: Accumulator[] = []
  const firstTop = new Int32Array(n).fill(-1)
  const unanimous = new Uint8Array(n).fill(1)
  const used = new Int32Array(n)
  let active = Array.from({ length: n }, (_, i) => i)
  let classes = 0
  for (const [v, spec] of input.specs.entries()) {
    if (active.length === 0) break
    const batch = new Float32Array(active.length * per)
    active.forEach((i, k) => batch.set(raw.right.data.subarray(i * per, (i + 1) * per), k * per))
    const plan = buildPlan('classification', [spec], [active.length, c, h, w], {
      merge: 'sum',
      ...(input.execution.budget === undefined ? {} : { budget: input.execution.budget }),
      ...(input.execution.maxBatch === undefined ? {} : { maxBatch: input.execution.maxBatch }),
      ...(input.signature === undefined ? {} : { signature: input.signature }),
    })
    if (E.isLeft(plan)) return plan
    let out: E.Either<TtaError, { readonly shape: readonly number[]; readonly data: Float32Array }>
    try {
      out = await run(plan.right, { shape: [active.length, c, h, w], data: batch }, { backend: backend.right, callModel, cancel: cancelOf(input) })
    } catch (e) {
      return E.left(paramError(`a transform failed while running: ${e instanceof Error ? e.message : String(e)}`))
    }
    if (E.isLeft(out)) return out
    const k = out.right.shape[1] ?? 1
    if (v === 0) {
      classes = k
      if (input.policy !== undefined) {
        const fits = checkPolicyOutput(input.policy, [n, k])
        if (E.isLeft(fits)) return fits
      }
      for (let i = 0; i < n; i++) merges.push(accumulator(mode, k))
    } else if (k !== classes) {
      return E.left(paramError(`view '${spec.name}' gives ${k} classes but earlier views gave ${classes}`))
    }
    const layout = { outer: 1, classes: k, inner: 1 }
    const still: number[] = []
    for (const [slot, i] of active.entries()) {
      const row = out.right.data.subarray(slot * k, (slot + 1) * k)
      const ready = input.combine === undefined ? row : prepareView(input.combine, v, row, layout)
      const merge = merges[i]
      if (merge === undefined) continue
      const added = merge.add(ready)
      if (E.isLeft(added)) return E.left(paramError(`view '${spec.name}': ${added.left.message}`))
      used[i] = v + 1
      const top = argmax(row)
      if (v === 0) firstTop[i] = top
      else if (top !== firstTop[i]) unanimous[i] = 0
      const sofar = merge.result()
      if (E.isLeft(sofar)) return sofar
      const done = v + 1 >= minViews && unanimous[i] === 1 && lead(calibrate(sofar.right, layout, reading)) >= margin
      if (!done) still.push(i)
    }
    active = still
  }
  const data = new Float32Array(n * classes)
  for (let i = 0; i < n; i++) {
    const merged = merges[i]?.result()
    if (merged === undefined || E.isLeft(merged)) return E.left(paramError('nothing to merge: no view was added'))
    const values = input.policy?.calibration === undefined ? merged.right : calibrate(merged.right, { outer: 1, classes, inner: 1 }, input.policy.calibration)
    data.set(values, i * classes)
  }
  rule.onViewsUsed?.(used)
  return E.right(assumeOutcome<O>(assumeShape<Shape>([n, classes], data)))
}
