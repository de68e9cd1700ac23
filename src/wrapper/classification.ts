/**
 * Classification TTA: labels do not move, so each view's scores are merged as they are.
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { shapeError, type TtaError } from '../errors.js'
import type { AnyFactor, Product, ViewShapes, ViewSpec } from '../algebra/product.js'
import { mergeModes, type MergeMode } from '../merge/merge.js'
import type { CheckImage, Shape } from '../tensor/shape.js'
import { assumeShape, type Tensor } from '../tensor/trusted.js'
import { checkSetup, imageOf, viewsOrNone, type WrapOptions } from './common.js'
import { runLoop } from './loop.js'
import type { Callable, ModelExtra, ModelInput, ModelOutput, ModelTensor, OutputKey } from './model.js'

type LabelShape<T, N> = T extends Tensor<infer O> ? (O extends readonly [unknown, ...infer R] ? readonly [N, ...R] : readonly [N, number]) : readonly [N, number]

/** @category model */
export interface ClassificationTTA<M, Fs extends readonly AnyFactor[], Key> {
  readonly views: readonly ViewSpec[]
  /** Runs every view through the model and merges the scores: `[N, classes]`. */
  readonly run: <const S extends Shape>(
    image: Tensor<S> & CheckImage<S, ViewShapes<Fs, S>, ModelInput<M>>,
    ...extra: ModelExtra<M>
  ) => TE.TaskEither<TtaError, Tensor<LabelShape<ModelTensor<M, Key>, S[0]>>>
}

/**
 * Wraps a classification model (ttach's `ClassificationTTAWrapper`). Any factor works, crops too.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, orThrow, tensor, wrap, type Tensor } from 'tta-lens'
 * // Scores: the mean of the image and its first pixel — only the second depends on the view.
 * const model = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => {
 *   const mean = x.data.reduce((a, v) => a + v, 0) / x.data.length
 *   return orThrow(tensor([1, 2], [mean, x.data[0] ?? 0]))
 * }
 * const image = tensor([1, 1, 2, 2], [1, 2, 3, 4])
 * if (E.isRight(image)) {
 *   const scores = await wrap.classification(model, aliases.hflip()).run(image.right)()
 *   assert.ok(E.isRight(scores) && scores.right.data.join() === '2.5,1.5')  // first pixel: 1 then 2
 * }
 * @category wrappers
 */
export const classification = <
  M extends (batch: never, ...extra: never) => Promise<ModelOutput>,
  const Fs extends readonly AnyFactor[],
  Key extends OutputKey<M> = never,
>(
  model: M,
  transforms: Product<Fs>,
  options: WrapOptions<MergeMode, Key> = {},
): ClassificationTTA<M, Fs, Key> => {
  const callable: Callable = { call: model }
  const specs = viewsOrNone(transforms)
  return {
    views: specs,
    run: <const S extends Shape>(image: Tensor<S>, ...extra: ModelExtra<M>) => async () => {
      const setup = checkSetup(transforms, options.merge, mergeModes)
      if (E.isLeft(setup)) return setup
      const input = imageOf(image)
      if (E.isLeft(input)) return input
      const n = input.right.shape[0]
      const result = await runLoop({
        specs, image: input.right, model: callable, extra, outputKey: options.outputKey, mode: setup.right,
        ...(options.onView === undefined ? {} : { onView: options.onView }),
        deaugment: (spec, output) =>
          output.shape[0] !== n
            ? E.left(shapeError(`a classification model must return [${n}, ...] scores, but view '${spec.name}' gave [${output.shape.join(',')}]`))
            : E.right(output),
      })
      return E.Functor.map(result, (t) => assumeShape<LabelShape<ModelTensor<M, Key>, S[0]>>(t.shape, t.data))
    },
  }
}
