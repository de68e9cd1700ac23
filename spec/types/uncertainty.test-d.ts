/**
 * Asking for uncertainty changes what `run` returns: `{ prediction, uncertainty }` with one value
 * per input (classification) or one map per image (segmentation); without it, the tensor alone.
 */
import { describe, expectTypeOf, test } from 'vitest'
import type * as E from 'fp-ts/lib/Either.js'
import { aliases, wrap, type SpreadMeasures, type Tensor, type TtaError } from '../../src/index.js'
import { classifier, image, segmenter } from './fixtures.js'

declare const kind: 'logits' | undefined

type Result<T> = T extends () => Promise<E.Either<TtaError, infer A>> ? A : never

describe('uncertainty in the result type', () => {
  test('without it, classification returns the scores alone', () => {
    const run = wrap.classification(classifier, aliases.hflip()).run(image)
    expectTypeOf<Result<typeof run>>().toEqualTypeOf<Tensor<readonly [1, 10]>>()
  })

  test('with it, classification returns the scores and one value per image for each measure', () => {
    const run = wrap.classification(classifier, aliases.hflip(), { uncertainty: 'logits' }).run(image)
    expectTypeOf<Result<typeof run>>().toEqualTypeOf<{ readonly prediction: Tensor<readonly [1, 10]>; readonly uncertainty: SpreadMeasures<Tensor<readonly [1]>> }>()
    expectTypeOf<Result<typeof run>['uncertainty']['entropy']>().toEqualTypeOf<Tensor<readonly [1]>>()
  })

  test('with it, segmentation returns the masks and one [N, H, W] map per measure', () => {
    const run = wrap.segmentation(segmenter, aliases.d4(), { uncertainty: 'probabilities' }).run(image)
    expectTypeOf<Result<typeof run>['prediction']>().toEqualTypeOf<Tensor<readonly [1, 2, 4, 6]>>()
    expectTypeOf<Result<typeof run>['uncertainty']['variance']>().toEqualTypeOf<Tensor<readonly [1, 4, 6]>>()
    const plain = wrap.segmentation(segmenter, aliases.d4()).run(image)
    expectTypeOf<Result<typeof plain>>().toEqualTypeOf<Tensor<readonly [1, 2, 4, 6]>>()
  })

  test('a plain result has no uncertainty to read, and the option takes only what a model returns', () => {
    const run = wrap.classification(classifier, aliases.hflip()).run(image)
    type Plain = Result<typeof run>
    // @ts-expect-error "Property 'uncertainty' does not exist on type 'Tensor<readonly [1, 10]>'"
    const nope: Plain['uncertainty'] = undefined
    void nope
    // @ts-expect-error "Type '\"softmax\"' is not assignable to type 'ScoreKind | undefined'"
    wrap.classification(classifier, aliases.hflip(), { uncertainty: 'softmax' })
  })

  test('an option whose type does not say gives either form', () => {
    const run = wrap.classification(classifier, aliases.hflip(), { uncertainty: kind }).run(image)
    expectTypeOf<Result<typeof run>>().toEqualTypeOf<Tensor<readonly [1, 10]> | wrap.WithUncertainty<Tensor<readonly [1, 10]>, readonly [1]>>()
  })
})
