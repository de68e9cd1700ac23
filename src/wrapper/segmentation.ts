/**
 * Segmentation TTA: each view's mask is mapped back into the input frame and merged.
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { shapeError, type TtaError } from '../errors.js'
import type { AnyFactor, Product, ViewShapes, ViewSpec } from '../algebra/product.js'
import { deaugmentMaskData } from '../backend/reference/views.js'
import { mergeModes, type MergeMode } from '../merge/merge.js'
import type { CheckImage, Shape } from '../tensor/shape.js'
import { assumeShape, type Tensor } from '../tensor/trusted.js'
import { checkSetup, imageOf, viewsOrNone, type CheckUndo, type WrapOptions } from './common.js'
import { runLoop } from './loop.js'
import type { Callable, ModelExtra, ModelInput, ModelOutput, ModelTensor, OutputKey } from './model.js'

type Channels<T> = T extends Tensor<infer O> ? (O extends readonly [unknown, infer K, unknown, unknown] ? K : number) : number

/** @category model */
export interface SegmentationTTA<M, Fs extends readonly AnyFactor[], Key> {
  readonly views: readonly ViewSpec[]
  /** Runs every view through the model and merges the masks: `[N, K, H, W]` in the input's frame. */
  readonly run: <const S extends Shape>(
    image: Tensor<S> & CheckImage<S, ViewShapes<Fs, S>, ModelInput<M>>,
    ...extra: ModelExtra<M>
  ) => TE.TaskEither<TtaError, Tensor<readonly [S[0], Channels<ModelTensor<M, Key>>, S[2], S[3]]>>
}

/**
 * Wraps a segmentation model. Every factor must be able to undo masks (FiveCrops cannot: it does
 * not compile). ttach's `SegmentationTTAWrapper`.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, tensor, wrap, type Tensor } from 'tta-lens'
 * // A "model" that predicts the image itself as a 1-channel mask.
 * const model = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => x
 * const image = tensor([1, 1, 2, 3], [0, 1, 2, 3, 4, 5])
 * if (E.isRight(image)) {
 *   const mask = await wrap.segmentation(model, aliases.d4()).run(image.right)()
 *   assert.ok(E.isRight(mask) && mask.right.data.join() === '0,1,2,3,4,5')  // every view undone exactly
 * }
 * @category wrappers
 */
export const segmentation = <
  M extends (batch: never, ...extra: never) => Promise<ModelOutput>,
  const Fs extends readonly AnyFactor[],
  Key extends OutputKey<M> = never,
>(
  model: M,
  transforms: Product<Fs> & CheckUndo<Fs, 'mask'>,
  options: WrapOptions<MergeMode, Key> = {},
): SegmentationTTA<M, Fs, Key> => {
  const callable: Callable = { call: model }
  const specs = viewsOrNone(transforms)
  return {
    views: specs,
    run: <const S extends Shape>(image: Tensor<S>, ...extra: ModelExtra<M>) => async () => {
      const setup = checkSetup(transforms, options.merge, mergeModes)
      if (E.isLeft(setup)) return setup
      const input = imageOf(image)
      if (E.isLeft(input)) return input
      const [n, , h, w] = input.right.shape
      const result = await runLoop({
        specs, image: input.right, model: callable, extra, outputKey: options.outputKey, mode: setup.right,
        ...(options.onView === undefined ? {} : { onView: options.onView }),
        deaugment: (spec, output) =>
          output.shape.length !== 4 || output.shape[0] !== n
            ? E.left(shapeError(`a segmentation model must return [${n},K,H,W] masks, but view '${spec.name}' gave [${output.shape.join(',')}]`))
            : deaugmentMaskData(spec, output.shape, output.data, h ?? 0, w ?? 0),
      })
      return E.Functor.map(result, (t) => assumeShape<readonly [S[0], Channels<ModelTensor<M, Key>>, S[2], S[3]]>(t.shape, t.data))
    },
  }
}
