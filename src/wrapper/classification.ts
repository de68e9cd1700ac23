/**
 * Classification TTA: labels do not move, so each view's scores are merged as they are.
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { AnyFactor, Product, ViewShapes, ViewSpec } from '../algebra/product.js'
import { mergeModes, type MergeMode } from '../merge/merge.js'
import type { ScoreKind } from '../merge/spread.js'
import type { CheckImage, Shape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/trusted.js'
import type { Outcome, WrapperOptions } from './common.js'
import { runEarlyExit, type EarlyExit } from './early-exit.js'
import { runTask, wrapperParts } from './execute.js'
import { measureOptionCodecs } from './options.js'
import type { RunnablePolicy } from './policy.js'
import type { Plan } from '../plan/plan.js'
import type { TtaError } from '../errors.js'
import type { ModelExtra, ModelInput, ModelOutput, ModelTensor, OutputKey } from './model.js'

type LabelShape<T, N> = T extends Tensor<infer O> ? (O extends readonly [unknown, ...infer R] ? readonly [N, ...R] : readonly [N, number]) : readonly [N, number]

/** Options of the classification wrapper: those of every wrapper, plus early exit. @category model */
export type ClassificationOptions<Key extends string, U extends ScoreKind | undefined = undefined> = WrapperOptions<MergeMode, Key, U> & {
  /**
   * Stop adding views for an input once the views so far agree (see {@link EarlyExit}): views run
   * one at a time, each only on the inputs still undecided. Not with `uncertainty`.
   */
  readonly earlyExit?: EarlyExit
}

/** What {@link classification} returns: the views, the plan for an image, and `run`. @category model */
export interface ClassificationTTA<M, Fs extends readonly AnyFactor[], Key, U = undefined> {
  readonly views: readonly ViewSpec[]
  /** The plan `run` would follow for an image (see `explain`). */
  readonly plan: (image: Tensor<Shape>) => E.Either<TtaError, Plan>
  /**
   * Runs every view through the model and merges the scores: `[N, classes]` (calibrated
   * probabilities when the wrapper was given a policy); with `uncertainty`, also one value per
   * input for each measure.
   */
  readonly run: <const S extends Shape>(
    image: Tensor<S> & CheckImage<S, ViewShapes<Fs, S>, ModelInput<M>>,
    ...extra: ModelExtra<M>
  ) => TE.TaskEither<TtaError, Outcome<U, Tensor<LabelShape<ModelTensor<M, Key>, S[0]>>, readonly [S[0]]>>
}

/**
 * Wraps a classification model (ttach's `ClassificationTTAWrapper`). Any factor works, crops too.
 * Give a searched policy (see `policy`) in place of the product to run its views, merge and
 * calibration.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, orThrow, tensor, wrap, type Tensor } from 'tta-lens'
 * // Scores per image: its mean and its first pixel — only the second depends on the view.
 * // Views of one size arrive together, stacked along the batch axis.
 * const model = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => {
 *   const [n, , h, w] = x.shape
 *   const scores = Array.from({ length: n }, (_, b) => {
 *     const image = x.data.subarray(b * h * w, (b + 1) * h * w)
 *     return [image.reduce((a, v) => a + v, 0) / image.length, image[0] ?? 0]
 *   })
 *   return orThrow(tensor([n, 2], scores.flat()))
 * }
 * const image = orThrow(tensor([1, 1, 2, 2], [1, 2, 3, 4]))
 * const scores = await wrap.classification(model, aliases.hflip()).run(image)()
 * assert.ok(E.isRight(scores) && scores.right.data.join() === '2.5,1.5')  // first pixel: 1 then 2
 * // The same pass can say how much the views disagree: the result becomes { prediction, uncertainty }.
 * // Here both views rank class 0 first (2.5 against 1, then 2.5 against 2): they agree.
 * const measured = await wrap.classification(model, aliases.hflip(), { uncertainty: 'logits' }).run(image)()
 * assert.ok(E.isRight(measured) && measured.right.uncertainty.agreement.data[0] === 1)
 * @category wrappers
 */
export const classification = <
  M extends (batch: never, ...extra: never) => Promise<ModelOutput>,
  const Fs extends readonly AnyFactor[],
  Key extends OutputKey<M> = never,
  U extends ScoreKind | undefined = undefined,
>(
  model: M,
  transforms: Product<Fs> | RunnablePolicy,
  options: ClassificationOptions<Key, U> = {},
): ClassificationTTA<M, Fs, Key, U> => {
  // From plain JavaScript `options` may be anything: only an object is taken apart, the rest goes to the decoder, which says why.
  const given: unknown = options
  const isObject = typeof given === 'object' && given !== null
  const { earlyExit, ...rest } = isObject ? options : {}
  const { input, views, plan } = wrapperParts('classification', model, transforms, isObject ? rest : options, mergeModes, {}, measureOptionCodecs)
  return {
    views,
    plan,
    run: <const S extends Shape>(image: Tensor<S>, ...extra: ModelExtra<M>) => () =>
      earlyExit === undefined
        ? runTask<Outcome<U, Tensor<LabelShape<ModelTensor<M, Key>, S[0]>>, readonly [S[0]]>>(input, image, extra)
        : runEarlyExit<Outcome<U, Tensor<LabelShape<ModelTensor<M, Key>, S[0]>>, readonly [S[0]]>>(input, image, extra, earlyExit),
  }
}
