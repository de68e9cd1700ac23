/**
 * Segmentation TTA: each view's mask is mapped back into the input frame and merged.
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { AnyFactor, Product, ViewShapes, ViewSpec } from '../algebra/product.js'
import { mergeModes, type MergeMode } from '../merge/merge.js'
import type { CheckImage, Shape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/trusted.js'
import type { CheckSegmenter, CheckUndo, WrapperOptions } from './common.js'
import { runTask, wrapperParts } from './execute.js'
import type { Plan } from '../plan/plan.js'
import type { TtaError } from '../errors.js'
import type { ModelExtra, ModelInput, ModelOutput, ModelTensor, OutputKey } from './model.js'

type Channels<T> = T extends Tensor<infer O> ? (O extends readonly [unknown, infer K, unknown, unknown] ? K : number) : number

/** What {@link segmentation} returns: the views, the plan for an image, and `run`. @category model */
export interface SegmentationTTA<M, Fs extends readonly AnyFactor[], Key> {
  readonly views: readonly ViewSpec[]
  /** The plan `run` would follow for an image (see `explain`). */
  readonly plan: (image: Tensor<Shape>) => E.Either<TtaError, Plan>
  /** Runs every view through the model and merges the masks: `[N, K, H, W]` in the input's frame. */
  readonly run: <const S extends Shape>(
    image: Tensor<S> & CheckImage<S, ViewShapes<Fs, S>, ModelInput<M>>,
    ...extra: ModelExtra<M>
  ) => TE.TaskEither<TtaError, Tensor<readonly [S[0], Channels<ModelTensor<M, Key>>, S[2], S[3]]>>
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
 * @category wrappers
 */
export const segmentation = <
  M extends (batch: never, ...extra: never) => Promise<ModelOutput>,
  const Fs extends readonly AnyFactor[],
  Key extends OutputKey<M> = never,
>(
  model: M & CheckSegmenter<M, Key>,
  transforms: Product<Fs> & CheckUndo<Fs, 'mask'>,
  options: WrapperOptions<MergeMode, Key> = {},
): SegmentationTTA<M, Fs, Key> => {
  const { input, views, plan } = wrapperParts('segmentation', model, transforms, options, mergeModes)
  return {
    views,
    plan,
    run: <const S extends Shape>(image: Tensor<S>, ...extra: ModelExtra<M>) => () =>
      runTask<readonly [S[0], Channels<ModelTensor<M, Key>>, S[2], S[3]]>(input, image, extra),
  }
}
