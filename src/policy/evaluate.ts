/**
 * A searched policy measured on data it never saw, against the single pass: accuracy, items fixed
 * and broken, an exact McNemar test, time per image; optionally how well the pass's uncertainty
 * flags errors (AUROC of each measure, beside the single pass's max-softmax) and what early exit
 * saves and costs. What `tta-lens eval --policy` prints and the demo shows.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { shapeError, type TtaError } from '../errors.js'
import { identity } from '../algebra/product.js'
import { auroc } from '../eval/auroc.js'
import { argmaxRows, type LabelledSet } from '../eval/classify.js'
import { mcnemar } from '../eval/stats.js'
import { probabilitiesAlongClasses } from '../merge/prepare.js'
import type { SpreadMeasures } from '../merge/spread.js'
import { assumeShape } from '../tensor/trusted.js'
import type { Shape } from '../tensor/shape.js'
import { classification } from '../wrapper/classification.js'
import { signatureOf, type ExecutionOptions } from '../wrapper/execute.js'
import { checkPolicyModel } from '../wrapper/policy.js'
import type { ModelOutput } from '../wrapper/model.js'
import type { Policy } from './policy.js'

/** One way of answering, scored against the labels and against the single pass. @category model */
export interface AnswerScore {
  readonly correct: number
  readonly accuracy: number
  /** Wrong in the single pass, right here; and the reverse. */
  readonly fixed: number
  readonly broken: number
  /** Exact two-sided McNemar p-value against the single pass. */
  readonly p: number
  readonly msPerImage: number
  readonly predictions: Int32Array
}

/** One early-exit rule's cost and effect. @category model */
export interface EarlyExitScore extends AnswerScore {
  readonly margin: number
  readonly minViews: number
  /** Model evaluations of an image (views run), in all. */
  readonly modelCalls: number
  /** Fraction of the full policy's model calls not made. */
  readonly callsSaved: number
  /** Against the full policy: items it got right that early exit got wrong, and the reverse. */
  readonly lostToFull: number
  readonly gainedOnFull: number
}

/** AUROC of one uncertainty measure for flagging errors. @category model */
export interface FlagScore {
  readonly measure: string
  /** Flagging the single pass's errors. */
  readonly singlePassErrors: number
  /** Flagging the policy's own errors. */
  readonly policyErrors: number
}

/** What {@link evaluatePolicy} measured. @category model */
export interface PolicyEvaluation {
  readonly items: number
  readonly views: number
  readonly none: AnswerScore
  readonly policy: AnswerScore
  readonly flags?: readonly FlagScore[]
  readonly earlyExit?: readonly EarlyExitScore[]
}

/** Options of {@link evaluatePolicy}. @category model */
export interface EvaluateOptions extends ExecutionOptions {
  /** Images per wrapper run (default 1000). */
  readonly imagesPerRun?: number
  /** Run the policy with uncertainty and score each measure's AUROC (the policy's time then includes it). */
  readonly uncertainty?: boolean
  /** Early-exit rules to measure, each a separate run. */
  readonly earlyExit?: readonly { readonly margin: number; readonly minViews?: number }[]
  /** After each batch: which run, images done, images in all. */
  readonly onProgress?: (run: string, done: number, total: number) => void
}

const score = (predictions: Int32Array, labels: ArrayLike<number>, base: Int32Array | undefined, ms: number): AnswerScore => {
  let correct = 0
  let fixed = 0
  let broken = 0
  for (let i = 0; i < predictions.length; i++) {
    const right = predictions[i] === labels[i]
    if (right) correct++
    if (base !== undefined) {
      const before = base[i] === labels[i]
      if (right && !before) fixed++
      if (!right && before) broken++
    }
  }
  return { correct, accuracy: correct / predictions.length, fixed, broken, p: mcnemar(fixed, broken), msPerImage: ms / predictions.length, predictions }
}

/**
 * Measures a policy on a labelled set against the single pass (see the module description).
 * @example
 * import { decodePolicy, evaluatePolicy, orThrow, tensor, type LabelledSet, type Tensor } from 'tta-lens'
 * // "Which half is brighter?" A mirror swaps the answer, so a policy of identity + mirror is unsure.
 * const model = async (x: Tensor<readonly ['N', 1, 1, 2]>) => orThrow(tensor([x.shape[0], 2], x.data.map((v) => 4 * v)))
 * const set: LabelledSet = { shape: [2, 1, 1, 2], images: Float32Array.of(1, 0, 0, 1), labels: [0, 1] }
 * const policy = orThrow(decodePolicy({
 *   format: 'tta-lens-policy', version: 1, task: 'classification', model: { input: [1, 1, 2], classes: 2, scores: 'logits' },
 *   views: [{ name: 'identity', ops: [] }, { name: 'hflip', ops: [{ op: 'hflip' }] }],
 *   merge: { mode: 'mean', over: 'logits', temperature: 1 },
 * }))
 * const measured = orThrow(await evaluatePolicy(model, set, policy))
 * assert.deepStrictEqual([measured.none.accuracy, measured.policy.broken], [1, 1])   // the tie goes to class 0
 * @category evaluation
 */
export const evaluatePolicy = async (
  model: (batch: never, ...extra: never) => Promise<ModelOutput>,
  set: LabelledSet,
  policy: Policy,
  options: EvaluateOptions = {},
): Promise<E.Either<TtaError, PolicyEvaluation>> => {
  const { imagesPerRun = 1000, uncertainty = false, earlyExit = [], onProgress, ...execution } = options
  const [n, c, h, w] = set.shape
  if (set.images.length !== n * c * h * w || set.labels.length !== n) {
    return E.left(shapeError(`a labelled set of [${set.shape.join(',')}] needs ${n * c * h * w} pixel values and ${n} labels, got ${set.images.length} and ${set.labels.length}`))
  }
  // A policy for another model is refused before anything runs (the single pass would fail first, less clearly).
  const fits = checkPolicyModel(policy, signatureOf(model))
  if (E.isLeft(fits)) return fits
  const classes = policy.model.classes
  const batches = async (name: string, run: (images: ReturnType<typeof assumeShape<Shape>>, start: number, count: number) => Promise<E.Either<TtaError, void>>): Promise<E.Either<TtaError, number>> => {
    const started = performance.now()
    for (let start = 0; start < n; start += imagesPerRun) {
      const count = Math.min(imagesPerRun, n - start)
      const done = await run(assumeShape<Shape>([count, c, h, w], set.images.subarray(start * c * h * w, (start + count) * c * h * w)), start, count)
      if (E.isLeft(done)) return done
      onProgress?.(name, start + count, n)
    }
    return E.right(performance.now() - started)
  }

  // The single pass: its answers and its max-softmax. One small untimed call first, so that the
  // model's own warm-up (first-call allocations, JIT) is not charged to whichever run comes first.
  const single = classification(model, identity, execution)
  const warm = await single.run(assumeShape<Shape>([Math.min(n, 16), c, h, w], set.images.subarray(0, Math.min(n, 16) * c * h * w)))()
  if (E.isLeft(warm)) return warm
  const noneTop = new Int32Array(n)
  const maxSoftmax = new Float64Array(n)
  const noneMs = await batches('none', async (images, start, count) => {
    const out = await single.run(images)()
    if (E.isLeft(out)) return out
    noneTop.set(argmaxRows(out.right.data, count), start)
    const probs = Float64Array.from(out.right.data)
    if (policy.scores === 'logits') probabilitiesAlongClasses(probs, { outer: count, classes, inner: 1 })
    for (let i = 0; i < count; i++) maxSoftmax[start + i] = Math.max(...probs.subarray(i * classes, (i + 1) * classes))
    return E.right(undefined)
  })
  if (E.isLeft(noneMs)) return noneMs
  const none = score(noneTop, set.labels, undefined, noneMs.right)

  // The policy, with its uncertainty if asked.
  const policyTop = new Int32Array(n)
  const maxProbability = new Float64Array(n)
  const measures = { entropy: new Float64Array(n), mutualInformation: new Float64Array(n), variance: new Float64Array(n), disagreement: new Float64Array(n) }
  const plain = classification(model, policy, execution)
  const measured = classification(model, policy, { ...execution, uncertainty: policy.scores })
  const keep = (probs: Float32Array, start: number, count: number): void => {
    policyTop.set(argmaxRows(probs, count), start)
    for (let i = 0; i < count; i++) maxProbability[start + i] = Math.max(...probs.subarray(i * classes, (i + 1) * classes))
  }
  const policyMs = await batches('policy', async (images, start, count) => {
    if (!uncertainty) {
      const out = await plain.run(images)()
      if (E.isLeft(out)) return out
      keep(out.right.data, start, count)
      return E.right(undefined)
    }
    const out = await measured.run(images)()
    if (E.isLeft(out)) return out
    keep(out.right.prediction.data, start, count)
    const m: SpreadMeasures<{ readonly data: Float32Array }> = out.right.uncertainty
    measures.entropy.set(m.entropy.data, start)
    measures.mutualInformation.set(m.mutualInformation.data, start)
    measures.variance.set(m.variance.data, start)
    measures.disagreement.set(m.agreement.data.map((a) => 1 - a), start)
    return E.right(undefined)
  })
  if (E.isLeft(policyMs)) return policyMs
  const scored = score(policyTop, set.labels, noneTop, policyMs.right)

  let flags: FlagScore[] | undefined
  if (uncertainty) {
    const singleWrong = Array.from(noneTop, (p, i) => p !== set.labels[i])
    const policyWrong = Array.from(policyTop, (p, i) => p !== set.labels[i])
    const flag = (measure: string, values: ArrayLike<number>): FlagScore => ({ measure, singlePassErrors: auroc(values, singleWrong), policyErrors: auroc(values, policyWrong) })
    flags = [
      flag('single pass: 1 − max softmax', maxSoftmax.map((p) => 1 - p)),
      flag('policy: 1 − max calibrated probability', maxProbability.map((p) => 1 - p)),
      flag('policy: predictive entropy', measures.entropy),
      flag('policy: mutual information', measures.mutualInformation),
      flag('policy: variance across views', measures.variance),
      flag('policy: 1 − view agreement', measures.disagreement),
    ]
  }

  const exits: EarlyExitScore[] = []
  const views = policy.views.length
  for (const rule of earlyExit) {
    const minViews = rule.minViews ?? 2
    const top = new Int32Array(n)
    let calls = 0
    const early = classification(model, policy, { ...execution, earlyExit: { margin: rule.margin, minViews, scores: policy.scores, onViewsUsed: (used) => { calls += used.reduce((a, u) => a + u, 0) } } })
    const ms = await batches(`early exit ${rule.margin}`, async (images, start, count) => {
      const out = await early.run(images)()
      if (E.isLeft(out)) return out
      top.set(argmaxRows(out.right.data, count), start)
      return E.right(undefined)
    })
    if (E.isLeft(ms)) return ms
    let lost = 0
    let gained = 0
    for (let i = 0; i < n; i++) {
      const full = policyTop[i] === set.labels[i]
      const here = top[i] === set.labels[i]
      if (full && !here) lost++
      if (here && !full) gained++
    }
    exits.push({ ...score(top, set.labels, noneTop, ms.right), margin: rule.margin, minViews, modelCalls: calls, callsSaved: 1 - calls / (n * views), lostToFull: lost, gainedOnFull: gained })
  }
  return E.right({
    items: n, views, none, policy: scored,
    ...(flags === undefined ? {} : { flags }),
    ...(earlyExit.length === 0 ? {} : { earlyExit: exits }),
  })
}
