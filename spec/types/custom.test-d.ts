/**
 * Check 5: a custom transform whose inverse does not undo its shape map. `backward` must take
 * `forward`'s output pattern and return its input pattern.
 */
import { describe, expectTypeOf, test } from 'vitest'
import { custom, orThrow, product, runnableViews, wrap, type Tensor, type ViewShapes } from '../../src/index.js'
import { image, segmenter } from './fixtures.js'

declare const tallSegmenter: (x: Tensor<readonly ['N', 3, 6, 4]>) => Promise<Tensor<readonly ['N', 2, 6, 4]>>

describe('custom transforms', () => {
  test('an inverse that takes the wrong shape', () => {
    custom({
      name: 'transpose',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
    })
    // @ts-expect-error "the inverse of 'x' takes [N,C,H,W] but must take the forward output [N,C,W,H]"
    custom({
      name: 'x',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
    })
  })

  test('an inverse that returns the wrong shape', () => {
    // @ts-expect-error "the inverse of 'y' returns [N,C,W,H] but must return the forward input [N,C,H,W]"
    custom({
      name: 'y',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
    })
  })

  test('a fixed-size crop whose inverse forgets the size', () => {
    // @ts-expect-error "the inverse of 'corner' takes [N,C,2,2] but must take the forward output [N,C,2,3]"
    custom({
      name: 'corner',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 2, 3], source: (i, j) => [i, j] },
      backward: { from: ['N', 'C', 2, 2], to: ['N', 'C', 'H', 'W'], source: (i, j) => [i, j] },
    })
  })

  test("a custom transform's views carry its shape map", () => {
    const transpose = orThrow(custom({
      name: 'transpose',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
    }))
    const p = product(transpose)
    // Its options are [false, true], so the identity view is one of the views.
    expectTypeOf<ViewShapes<typeof p.factors, readonly [1, 3, 4, 6]>>().toEqualTypeOf<readonly [1, 3, 4, 6] | readonly [1, 3, 6, 4]>()
    // ...and a model that only takes the transposed size does not fit the identity view.
    // @ts-expect-error "view [1,3,4,6] does not fit model input [N,3,6,4]"
    wrap.segmentation(tallSegmenter, p).run(image)
    wrap.segmentation(segmenter, p).run(image)
    // Without point maps the transform cannot undo keypoints, so its views have no deaugmentKeypoints.
    expectTypeOf(runnableViews(p)).items.toHaveProperty('deaugmentMask')
    expectTypeOf(runnableViews(p)).items.not.toHaveProperty('deaugmentKeypoints')
  })
})
