/**
 * Segmentation TTA: each view's mask is mapped back into the input frame and merged.
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { AnyFactor, Product, ViewShapes, ViewSpec } from '../algebra/product.js'
import { mergeModes, type MergeMode } from '../merge/merge.js'
import type { ScoreKind } from '../merge/spread.js'
import type { CheckImage, Shape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/trusted.js'
import type { CheckSegmenter, CheckUndo, Outcome, WrapperOptions } from './common.js'
import { runTask, wrapperParts } from './execute.js'
import { measureOptionCodecs } from './options.js'
import type { RunnablePolicy } from './policy.js'
import type { Plan } from '../plan/plan.js'
import type { TtaError } from '../errors.js'
import type { ModelExtra, ModelInput, ModelOutput, ModelTensor, OutputKey } from './model.js'

type Channels<T> = T extends Tensor<infer O> ? (O extends readonly [unknown, infer K, unknown, unknown] ? K : number) : number

/** What {@link segmentation} returns: the views, the plan for an image, and `run`. @category model */
export interface SegmentationTTA<M, Fs extends readonly AnyFactor[], Key, U = undefined> {
  readonly views: readonly ViewSpec[]
  /** The plan `run` would follow for an image (see `explain`). */
  readonly plan: (image: Tensor<Shape>) => E.Either<TtaError, Plan>
  /**
   * Runs every view through the model and merges the masks: `[N, K, H, W]` in the input's frame;
   * with `uncertainty`, also one `[N, H, W]` map for each measure.
   */
  readonly run: <const S extends Shape>(
    image: Tensor<S> & CheckImage<S, ViewShapes<Fs, S>, ModelInput<M>>,
    ...extra: ModelExtra<M>
  ) => TE.TaskEither<TtaError, Outcome<U, Tensor<readonly [S[0], Channels<ModelTensor<M, Key>>, S[2], S[3]]>, readonly [S[0], S[2], S[3]]>>
}

/**
 * Wraps a segmentation model. Every factor must be able to undo masks (FiveCrops cannot: it does
 * not compile), and the model's declared output must be masks the size of its input (a
 * classifier's `[N, 10]` or a stride-2 head does not compile). ttach's `SegmentationTTAWrapper`.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, orThrow, tensor, wrap, type Tensor } from 'tta-lens'
 * // A "model" that predicts the image itself as a 1-channel mask.
 * const model = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => x
 * const image = orThrow(tensor([1, 1, 2, 3], [0, 1, 2, 3, 4, 5]))
 * const mask = await wrap.segmentation(model, aliases.d4()).run(image)()
 * assert.ok(E.isRight(mask) && mask.right.data.join() === '0,1,2,3,4,5')  // every view undone exactly
 * // Per-pixel uncertainty from the same pass: here every view agrees everywhere.
 * const sure = await wrap.segmentation(model, aliases.d4(), { uncertainty: 'probabilities' }).run(orThrow(tensor([1, 1, 2, 3], [0, 1, 1, 0, 1, 0])))()
 * assert.ok(E.isRight(sure) && sure.right.uncertainty.variance.shape.join() === '1,2,3' && sure.right.uncertainty.agreement.data.every((a) => a === 1))
 * @category wrappers
 */
export const segmentation = <
  M extends (batch: never, ...extra: never) => Promise<ModelOutput>,
  const Fs extends readonly AnyFactor[],
  Key extends OutputKey<M> = never,
  U extends ScoreKind | undefined = undefined,
>(
  model: M & CheckSegmenter<M, Key>,
  transforms: (Product<Fs> & CheckUndo<Fs, 'mask'>) | RunnablePolicy,
  options: WrapperOptions<MergeMode, Key, U> = {},
): SegmentationTTA<M, Fs, Key, U> => {
  const { input, views, plan } = wrapperParts('segmentation', model, transforms, options, mergeModes, {}, measureOptionCodecs)
  return {
    views,
    plan,
    run: <const S extends Shape>(image: Tensor<S>, ...extra: ModelExtra<M>) => () =>
      runTask<Outcome<U, Tensor<readonly [S[0], Channels<ModelTensor<M, Key>>, S[2], S[3]]>, readonly [S[0], S[2], S[3]]>>(input, image, extra),
  }
}
