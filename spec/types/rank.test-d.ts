/**
 * Check 1: an image of the wrong rank. Wrappers and views take NCHW (rank 4) images.
 */
import { describe, expectTypeOf, test } from 'vitest'
import { aliases, runnableViews, wrap } from '../../src/index.js'
import { image, image3, segmenter, classifier, pointer } from './fixtures.js'

describe('rank', () => {
  test("a wrapper's run refuses a rank-3 image", () => {
    // @ts-expect-error "the image must have rank 4 but this tensor has rank 3 [3,4,6]"
    wrap.segmentation(segmenter, aliases.d4()).run(image3)
    // @ts-expect-error "the image must have rank 4 but this tensor has rank 3 [3,4,6]"
    wrap.classification(classifier, aliases.hflip()).run(image3)
    // @ts-expect-error "the image must have rank 4 but this tensor has rank 3 [3,4,6]"
    wrap.keypoints(pointer, aliases.flip()).run(image3)
  })

  test('a rank-4 image runs', () => {
    wrap.segmentation(segmenter, aliases.d4()).run(image)
    wrap.classification(classifier, aliases.hflip()).run(image)
    wrap.keypoints(pointer, aliases.flip()).run(image)
  })

  test('augmentImage of a runnable view refuses a rank-3 image', () => {
    // @ts-expect-error "the image must have rank 4 but this tensor has rank 3 [3,4,6]"
    runnableViews(aliases.d4())[0]?.augmentImage(image3)
    expectTypeOf(runnableViews(aliases.hflip())[0]?.augmentImage(image)).not.toBeNever()
  })
})
