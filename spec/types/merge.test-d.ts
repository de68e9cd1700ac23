/**
 * Checks 4 and 6: merging tensors of different shapes, and merge modes that do not exist (or do
 * not apply: a vote over argmax makes no sense for coordinates).
 */
import { describe, expectTypeOf, test } from 'vitest'
import type * as E from 'fp-ts/lib/Either.js'
import { aliases, merge, parseMergeMode, wrap, type MergeError, type MergeFailure, type MergeMode, type Tensor } from '../../src/index.js'
import { classifier, pointer, segmenter } from './fixtures.js'

declare const a: Tensor<readonly [1, 3]>
declare const b: Tensor<readonly [1, 4]>
declare const mask: Tensor<readonly [1, 2, 4, 4]>
declare const label: Tensor<readonly [1, 2]>
declare const untracked: Tensor<readonly [number, 3]>
declare const untracked4: Tensor<readonly [number, 4]>
declare const named: Tensor<readonly ['N', 3]>

describe('merge shapes', () => {
  test('tensors of different shapes do not merge', () => {
    // @ts-expect-error "cannot merge tensors of different shapes: [1,3] and [1,4]"
    merge('mean', [a, b])
    // @ts-expect-error "cannot merge tensors of different shapes: [1,2,4,4] and [1,2]"
    merge('mean', [mask, label])
    // @ts-expect-error "cannot merge tensors of different shapes: [1,3] and [1,4]"
    merge('max', [a, a, b, a])
  })

  test('an untracked `number` dim may be any size; names must match names', () => {
    merge('mean', [a, untracked])
    merge('mean', [untracked, a])
    merge('mean', [named, named])
    // @ts-expect-error "cannot merge tensors of different shapes: [number,3] and [number,4]"
    merge('mean', [untracked, untracked4])
    // @ts-expect-error "cannot merge tensors of different shapes: [N,3] and [1,3]"
    merge('mean', [named, a])
  })

  test('tensors of one shape merge, and keep it', () => {
    expectTypeOf(merge('mean', [a, a])).toEqualTypeOf<E.Either<MergeFailure, Tensor<readonly [1, 3]>>>()
    expectTypeOf(merge('vote', [mask, mask, mask])).toEqualTypeOf<E.Either<MergeFailure, Tensor<readonly [1, 2, 4, 4]>>>()
  })
})

describe('merge modes', () => {
  test('an unknown mode', () => {
    // @ts-expect-error "'\"median\"' is not assignable to parameter of type 'MergeMode'"
    merge('median', [a, a])
    // @ts-expect-error "'\"median\"' is not assignable to type 'MergeMode | undefined'"
    wrap.segmentation(segmenter, aliases.d4(), { merge: 'median' })
    // @ts-expect-error "'\"median\"' is not assignable to type 'MergeMode | undefined'"
    wrap.classification(classifier, aliases.d4(), { merge: 'median' })
    expectTypeOf<'median'>().not.toExtend<MergeMode>()
  })

  test('vote is not a keypoints merge mode', () => {
    // @ts-expect-error "'\"vote\"' is not assignable to type 'KeypointMergeMode | undefined'"
    wrap.keypoints(pointer, aliases.d4(), { merge: 'vote' })
    expectTypeOf<'vote'>().not.toExtend<wrap.KeypointMergeMode>()
    expectTypeOf<'mean'>().toExtend<wrap.KeypointMergeMode>()
    wrap.keypoints(pointer, aliases.d4(), { merge: 'mean' })
    wrap.classification(classifier, aliases.d4(), { merge: 'vote' })
  })

  test('merge takes a MergeMode; a string from untyped code goes through parseMergeMode', () => {
    expectTypeOf(merge).parameter(0).toEqualTypeOf<MergeMode>()
    expectTypeOf(parseMergeMode('median')).toEqualTypeOf<E.Either<MergeError, MergeMode>>()
  })
})
