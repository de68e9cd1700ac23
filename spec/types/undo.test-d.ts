/**
 * Check 3: a transform that cannot put a prediction back. FiveCrops sees only part of the frame,
 * so it undoes labels only: segmentation and keypoints wrappers with it do not compile, and the
 * views of a product with it have no `deaugmentMask` or `deaugmentKeypoints`.
 */
import { describe, expectTypeOf, test } from 'vitest'
import { aliases, orThrow, product, runnableViews, transforms as T, wrap } from '../../src/index.js'
import { classifier, pointer, segmenter, square } from './fixtures.js'

describe('undo', () => {
  test('segmentation with FiveCrops', () => {
    // @ts-expect-error "FiveCrops cannot put a mask back into the full frame"
    wrap.segmentation(segmenter, orThrow(aliases.fiveCrop(4, 4)))
    // @ts-expect-error "FiveCrops cannot put a mask back into the full frame"
    wrap.segmentation(segmenter, orThrow(aliases.tenCrop(4, 4)))
    // The check is per factor: a flip before the crops does not hide them.
    // @ts-expect-error "FiveCrops cannot put a mask back into the full frame"
    wrap.segmentation(segmenter, product(T.hflip(), orThrow(T.fiveCrops(4, 4)), T.vflip()))
  })

  test('keypoints with FiveCrops', () => {
    // @ts-expect-error "FiveCrops cannot put keypoints back into the full frame"
    wrap.keypoints(pointer, orThrow(aliases.fiveCrop(4, 4)))
    // @ts-expect-error "FiveCrops cannot put keypoints back into the full frame"
    wrap.keypoints(pointer, orThrow(aliases.tenCrop(4, 4)))
  })

  test('classification with FiveCrops compiles', () => {
    wrap.classification(classifier, orThrow(aliases.fiveCrop(4, 4))).run(square)
    wrap.classification(classifier, orThrow(aliases.tenCrop(4, 4))).run(square)
  })

  test('segmentation and keypoints with flips and turns compile', () => {
    wrap.segmentation(segmenter, aliases.d4()).run(square)
    wrap.keypoints(pointer, aliases.d4()).run(square)
  })

  test('views of a FiveCrops product have no deaugmentMask', () => {
    const [crop] = runnableViews(orThrow(aliases.fiveCrop(4, 4)))
    // @ts-expect-error "Property 'deaugmentMask' does not exist"
    crop?.deaugmentMask
    // @ts-expect-error "Property 'deaugmentKeypoints' does not exist"
    crop?.deaugmentKeypoints
    expectTypeOf(crop?.deaugmentLabel).not.toBeUndefined()
    expectTypeOf(runnableViews(orThrow(aliases.tenCrop(4, 4)))).items.not.toHaveProperty('deaugmentMask')
  })

  test('views of d4 have all three undos', () => {
    const views = runnableViews(aliases.d4())
    expectTypeOf(views).items.toHaveProperty('deaugmentMask')
    expectTypeOf(views).items.toHaveProperty('deaugmentKeypoints')
    expectTypeOf(views).items.toHaveProperty('deaugmentLabel')
  })
})
