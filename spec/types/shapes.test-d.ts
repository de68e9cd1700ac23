/**
 * The shape algebra, positively: what views, wrappers and constructors return.
 */
import { describe, expectTypeOf, test } from 'vitest'
import type * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import {
  aliases, decode, orThrow, product, runnableViews, tensor, transforms as T, wrap, zeros,
  type Scaled, type Tensor, type TensorError, type TtaError, type Unscaled, type ViewShapes,
} from '../../src/index.js'
import { anyImage, classifier, image, pointer, segmenter } from './fixtures.js'

declare const someScales: number[]

type D4 = ReturnType<typeof aliases.d4> extends { readonly factors: infer Fs } ? Fs : never

describe('views', () => {
  test('d4 on a 4×6 image: the view shapes are the union of 4×6 and 6×4', () => {
    expectTypeOf<ViewShapes<D4, readonly [1, 3, 4, 6]>>().toEqualTypeOf<readonly [1, 3, 4, 6] | readonly [1, 3, 6, 4]>()
    const [view] = runnableViews(aliases.d4())
    expectTypeOf(view?.augmentImage(image)).toEqualTypeOf<E.Either<TensorError, Tensor<readonly [1, 3, 4, 6] | readonly [1, 3, 6, 4]>> | undefined>()
  })

  test('flips keep the shape; symbolic names are swapped by turns', () => {
    const [flipped] = runnableViews(aliases.flip())
    expectTypeOf(flipped?.augmentImage(image)).toEqualTypeOf<E.Either<TensorError, Tensor<readonly [1, 3, 4, 6]>> | undefined>()
    expectTypeOf<ViewShapes<D4, readonly ['N', 3, 'H', 'W']>>().toEqualTypeOf<readonly ['N', 3, 'H', 'W'] | readonly ['N', 3, 'W', 'H']>()
  })

  test('a scale by 2 gives symbolic dims that cancel with their inverse', () => {
    const scales = orThrow(aliases.multiscale([2]))
    expectTypeOf<ViewShapes<typeof scales.factors, readonly [1, 3, 4, 6]>>().toEqualTypeOf<readonly [1, 3, 4, 6] | readonly [1, 3, '4×2', '6×2']>()
    expectTypeOf<Scaled<8, 2>>().toEqualTypeOf<'8×2'>()
    expectTypeOf<Unscaled<Scaled<8, 2>, 2>>().toEqualTypeOf<8>()
    expectTypeOf<Unscaled<Scaled<'H', 0.5>, 0.5>>().toEqualTypeOf<'H'>()
    expectTypeOf<Scaled<'H', 1>>().toEqualTypeOf<'H'>()
  })

  test('a scale by a non-literal factor gives untracked sizes', () => {
    const scales = orThrow(aliases.multiscale(someScales))
    expectTypeOf<ViewShapes<typeof scales.factors, readonly [1, 3, 4, 6]>>().toEqualTypeOf<readonly [1, 3, number, number]>()
  })

  test("resizes give their sizes; the originalSize view is the identity, so it keeps the input's shape", () => {
    const sizes = product(orThrow(T.resize([[4, 4], [2, 3]])))
    expectTypeOf<ViewShapes<typeof sizes.factors, readonly [1, 3, 6, 6]>>().toEqualTypeOf<readonly [1, 3, 4, 4] | readonly [1, 3, 2, 3]>()
    const withOriginal = product(orThrow(T.resize([[4, 4], [12, 12]], { originalSize: [8, 8] })))
    expectTypeOf<ViewShapes<typeof withOriginal.factors, readonly [1, 3, 6, 6]>>().toEqualTypeOf<readonly [1, 3, 6, 6] | readonly [1, 3, 4, 4] | readonly [1, 3, 12, 12]>()
    const listed = product(orThrow(T.resize([[8, 8], [4, 4]], { originalSize: [8, 8] })))
    expectTypeOf<ViewShapes<typeof listed.factors, readonly [1, 3, 6, 6]>>().toEqualTypeOf<readonly [1, 3, 6, 6] | readonly [1, 3, 4, 4]>()
    // After a scale, the identity resize leaves the scaled size in place.
    const scaled = product(orThrow(T.scale([2])), orThrow(T.resize([[4, 4]], { originalSize: [8, 8] })))
    expectTypeOf<ViewShapes<typeof scaled.factors, readonly [1, 3, 6, 6]>>().toEqualTypeOf<readonly [1, 3, 6, 6] | readonly [1, 3, '6×2', '6×2'] | readonly [1, 3, 4, 4]>()
  })

  test('crops give the crop size', () => {
    const crops = orThrow(aliases.tenCrop(2, 3))
    expectTypeOf<ViewShapes<typeof crops.factors, readonly [1, 3, 8, 8]>>().toEqualTypeOf<readonly [1, 3, 2, 3]>()
  })
})

describe('wrapper results', () => {
  test("segmentation: [N, K, H, W] with K from the model's output type", () => {
    expectTypeOf(wrap.segmentation(segmenter, aliases.d4()).run(image)).toEqualTypeOf<TE.TaskEither<TtaError, Tensor<readonly [1, 2, 4, 6]>>>()
    expectTypeOf(wrap.segmentation(segmenter, aliases.d4()).run(anyImage)).toEqualTypeOf<TE.TaskEither<TtaError, Tensor<readonly ['N', 2, 'H', 'W']>>>()
  })

  test('classification: [N, classes]', () => {
    expectTypeOf(wrap.classification(classifier, aliases.d4()).run(image)).toEqualTypeOf<TE.TaskEither<TtaError, Tensor<readonly [1, 10]>>>()
  })

  test('keypoints: [N, 2K]', () => {
    expectTypeOf(wrap.keypoints(pointer, aliases.d4()).run(image)).toEqualTypeOf<TE.TaskEither<TtaError, Tensor<readonly [1, 10]>>>()
    expectTypeOf(wrap.keypoints(pointer, aliases.d4()).run(anyImage)).toEqualTypeOf<TE.TaskEither<TtaError, Tensor<readonly ['N', 10]>>>()
  })

  test('a record output: outputKey picks the tensor, and only its keys are accepted', () => {
    const model = async (_x: Tensor<readonly ['N', 3, 'H', 'W']>) => ({ mask: orThrow(zeros([1, 2, 4, 6])), aux: orThrow(zeros([1])) })
    expectTypeOf(wrap.segmentation(model, aliases.hflip(), { outputKey: 'mask' }).run(image)).toEqualTypeOf<TE.TaskEither<TtaError, Tensor<readonly [1, 2, 4, 6]>>>()
    // @ts-expect-error "Type '\"masks\"' is not assignable to type '\"mask\" | \"aux\" | undefined'"
    wrap.segmentation(model, aliases.hflip(), { outputKey: 'masks' })
  })
})

describe('constructors', () => {
  test('decode keeps the declared names', () => {
    expectTypeOf(decode(['N', 3, 'H', 'W'], {})).toEqualTypeOf<E.Either<TensorError, Tensor<readonly ['N', 3, 'H', 'W']>>>()
  })

  test('tensor and zeros keep literal sizes', () => {
    expectTypeOf(tensor([2, 3], [1, 2, 3, 4, 5, 6])).toEqualTypeOf<E.Either<TensorError, Tensor<readonly [2, 3]>>>()
    expectTypeOf(zeros([1, 3, 4, 6])).toEqualTypeOf<E.Either<TensorError, Tensor<readonly [1, 3, 4, 6]>>>()
  })

  test('a concrete tensor fits a symbolic parameter, literal sizes must agree', () => {
    expectTypeOf(image).toExtend<Tensor<readonly ['N', 3, 'H', 'W']>>()
    expectTypeOf(image).not.toExtend<Tensor<readonly [1, 3, 6, 4]>>()
    expectTypeOf(image.shape).toEqualTypeOf<readonly [1, 3, 4, 6]>()
    expectTypeOf(anyImage.shape).toEqualTypeOf<readonly [number, 3, number, number]>()
  })
})
