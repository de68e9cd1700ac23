/**
 * Keypoints TTA: the model returns `[N, 2K]` (x1, y1, x2, y2, …); each view's points are mapped
 * back into the input frame and merged. Unlike ttach, pixel coordinates are normalised by the
 * *view's* size, so a 90° turn of a non-square image comes back right.
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { AnyFactor, Product, ViewShapes, ViewSpec } from '../algebra/product.js'
import type { MergeMode } from '../merge/merge.js'
import type { CheckImage, Shape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/trusted.js'
import type { CheckPointer, CheckUndo, WrapOptions } from './common.js'
import { runTask, wrapperParts, type ExecutionOptions } from './execute.js'
import { keypointOptionCodecs } from './options.js'
import type { Plan } from '../plan/plan.js'
import type { TtaError } from '../errors.js'
import type { ModelExtra, ModelInput, ModelOutput, ModelTensor, OutputKey } from './model.js'

/** Merge modes that make sense for coordinates (a vote over argmax does not). @category model */
export type KeypointMergeMode = Exclude<MergeMode, 'vote'>
const keypointModes: readonly KeypointMergeMode[] = ['mean', 'gmean', 'sum', 'max', 'min', 'tsharpen']

/** Options of the keypoints wrapper: those of every wrapper, plus the model's coordinate system. @category model */
export interface KeypointsOptions<Key extends string> extends WrapOptions<KeypointMergeMode, Key>, ExecutionOptions {
  /** `'pixels'` (ttach's default, `scaled=False`) or `'normalized'` to [0, 1] (`scaled=True`). */
  readonly coordinates?: 'pixels' | 'normalized'
}

type PointsShape<T, N> = T extends Tensor<infer O> ? (O extends readonly [unknown, infer P] ? readonly [N, P] : readonly [N, number]) : readonly [N, number]

/** What {@link keypoints} returns: the views, the plan for an image, and `run`. @category model */
export interface KeypointsTTA<M, Fs extends readonly AnyFactor[], Key> {
  readonly views: readonly ViewSpec[]
  /** The plan `run` would follow for an image (see `explain`). */
  readonly plan: (image: Tensor<Shape>) => E.Either<TtaError, Plan>
  /** Runs every view and merges the points: `[N, 2K]` in the input's frame. */
  readonly run: <const S extends Shape>(
    image: Tensor<S> & CheckImage<S, ViewShapes<Fs, S>, ModelInput<M>>,
    ...extra: ModelExtra<M>
  ) => TE.TaskEither<TtaError, Tensor<PointsShape<ModelTensor<M, Key>, S[0]>>>
}

/**
 * Wraps a keypoint model (ttach's `KeypointsTTAWrapper`). FiveCrops does not compile here.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, orThrow, tensor, wrap, type Tensor } from 'tta-lens'
 * // Finds each image's brightest pixel, in pixels (x = column + 0.5, y = row + 0.5).
 * const model = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => {
 *   const [n, , h, w] = x.shape
 *   const points = Array.from({ length: n }, (_, b) => {
 *     const image = Array.from(x.data.subarray(b * h * w, (b + 1) * h * w))
 *     const k = image.indexOf(Math.max(...image))
 *     return [(k % w) + 0.5, Math.floor(k / w) + 0.5]
 *   })
 *   return orThrow(tensor([n, 2], points.flat()))
 * }
 * const image = orThrow(tensor([1, 1, 2, 3], [0, 0, 9, 0, 0, 0]))   // bright pixel at x = 2.5, y = 0.5
 * const points = await wrap.keypoints(model, aliases.d4()).run(image)()
 * assert.ok(E.isRight(points) && points.right.data.join() === '2.5,0.5')
 * @category wrappers
 */
export const keypoints = <
  M extends (batch: never, ...extra: never) => Promise<ModelOutput>,
  const Fs extends readonly AnyFactor[],
  Key extends OutputKey<M> = never,
>(
  model: M & CheckPointer<M, Key>,
  transforms: Product<Fs> & CheckUndo<Fs, 'keypoints'>,
  options: KeypointsOptions<Key> = {},
): KeypointsTTA<M, Fs, Key> => {
  const { input, views, plan } = wrapperParts('keypoints', model, transforms, options, keypointModes,
    { pixelKeypoints: (options?.coordinates ?? 'pixels') === 'pixels' }, keypointOptionCodecs)
  return {
    views,
    plan,
    run: <const S extends Shape>(image: Tensor<S>, ...extra: ModelExtra<M>) => () =>
      runTask<Tensor<PointsShape<ModelTensor<M, Key>, S[0]>>>(input, image, extra),
  }
}
