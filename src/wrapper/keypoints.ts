/**
 * Keypoints TTA: the model returns `[N, 2K]` (x1, y1, x2, y2, …); each view's points are mapped
 * back into the input frame and merged. Unlike ttach, pixel coordinates are normalised by the
 * *view's* size, so a 90° turn of a non-square image comes back right.
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { shapeError, type TtaError } from '../errors.js'
import type { AnyFactor, Product, ViewShapes, ViewSpec } from '../algebra/product.js'
import { deaugmentKeypointsData } from '../backend/reference/views.js'
import type { MergeMode } from '../merge/merge.js'
import type { CheckImage, Shape } from '../tensor/shape.js'
import { assumeShape, type Tensor } from '../tensor/trusted.js'
import { checkSetup, imageOf, viewsOrNone, type CheckUndo, type WrapOptions } from './common.js'
import { runLoop } from './loop.js'
import type { Callable, ModelExtra, ModelInput, ModelOutput, ModelTensor, OutputKey } from './model.js'

/** Merge modes that make sense for coordinates (a vote over argmax does not). @category model */
export type KeypointMergeMode = Exclude<MergeMode, 'vote'>
const keypointModes: readonly KeypointMergeMode[] = ['mean', 'gmean', 'sum', 'max', 'min', 'tsharpen']

/** @category model */
export interface KeypointsOptions<Key extends string> extends WrapOptions<KeypointMergeMode, Key> {
  /** `'pixels'` (ttach's default, `scaled=False`) or `'normalized'` to [0, 1] (`scaled=True`). */
  readonly coordinates?: 'pixels' | 'normalized'
}

type PointsShape<T, N> = T extends Tensor<infer O> ? (O extends readonly [unknown, infer P] ? readonly [N, P] : readonly [N, number]) : readonly [N, number]

/** @category model */
export interface KeypointsTTA<M, Fs extends readonly AnyFactor[], Key> {
  readonly views: readonly ViewSpec[]
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
 * // Finds the brightest pixel, in pixels (x = column + 0.5, y = row + 0.5).
 * const model = async (x: Tensor<readonly [1, 1, 'H', 'W']>) => {
 *   const [, , , w] = x.shape
 *   const k = x.data.indexOf(Math.max(...x.data))
 *   return orThrow(tensor([1, 2], [(k % w) + 0.5, Math.floor(k / w) + 0.5]))
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
  model: M,
  transforms: Product<Fs> & CheckUndo<Fs, 'keypoints'>,
  options: KeypointsOptions<Key> = {},
): KeypointsTTA<M, Fs, Key> => {
  const callable: Callable = { call: model }
  const specs = viewsOrNone(transforms)
  const pixels = (options.coordinates ?? 'pixels') === 'pixels'
  return {
    views: specs,
    run: <const S extends Shape>(image: Tensor<S>, ...extra: ModelExtra<M>) => async () => {
      const setup = checkSetup(transforms, options.merge, keypointModes)
      if (E.isLeft(setup)) return setup
      const input = imageOf(image)
      if (E.isLeft(input)) return input
      const [n = 1, , h = 1, w = 1] = input.right.shape
      const result = await runLoop({
        specs, image: input.right, model: callable, extra, outputKey: options.outputKey, mode: setup.right,
        ...(options.onView === undefined ? {} : { onView: options.onView }),
        deaugment: (spec, output, view) => {
          const [, , vh = 1, vw = 1] = view.shape
          const per = output.data.length / n
          if (output.shape[0] !== n || per % 2 !== 0) {
            return E.left(shapeError(`a keypoint model must return [${n}, 2K] coordinates, but view '${spec.name}' gave [${output.shape.join(',')}]`))
          }
          // Normalise by the size of the view the model saw, not the input's (ttach's bug after a turn).
          const normalised = pixels ? output.data.map((v, i) => (i % 2 === 0 ? v / vw : v / vh)) : output.data
          return E.Functor.map(deaugmentKeypointsData(spec, [n, per / 2, 2], normalised), (data) => ({ shape: [n, per], data }))
        },
      })
      return E.Functor.map(result, (t) => assumeShape<PointsShape<ModelTensor<M, Key>, S[0]>>(
        t.shape, pixels ? t.data.map((v, i) => (i % 2 === 0 ? v * w : v * h)) : t.data))
    },
  }
}
