/**
 * Check 2: a view that does not fit the model's declared input. A model's parameter type is its
 * input signature; literal sizes must match every view, symbolic names accept any size.
 */
import { describe, test } from 'vitest'
import { aliases, decode, orThrow, wrap, type Tensor } from '../../src/index.js'
import { anyImage, classifier4x4, fixedSegmenter, image, segmenter, square } from './fixtures.js'

declare const untyped: unknown
declare const untracked: Tensor<readonly [number, 3, number, number]>
declare const anyBatch4x6: (x: Tensor<readonly [number, 3, 4, 6]>) => Promise<Tensor<readonly [number, 10]>>

describe('model input', () => {
  test('d4 turns a 4×6 image into 6×4 views, which a fixed 4×6 model cannot take', () => {
    // @ts-expect-error "view [1,3,6,4] does not fit model input [N,3,4,6]"
    wrap.segmentation(fixedSegmenter, aliases.d4()).run(image)
    // @ts-expect-error "view [1,3,6,4] does not fit model input [N,3,4,6]"
    wrap.classification(fixedSegmenter, orThrow(aliases.rotate90([90]))).run(image)
  })

  test("an untracked model dim shows as 'number'", () => {
    // @ts-expect-error "view [1,3,6,4] does not fit model input [number,3,4,6]"
    wrap.classification(anyBatch4x6, aliases.d4()).run(image)
    wrap.classification(anyBatch4x6, aliases.flip()).run(image)
  })

  test('a scale makes views of another size', () => {
    // @ts-expect-error "view [1,3,4×2,6×2] does not fit model input [N,3,4,6]"
    wrap.segmentation(fixedSegmenter, orThrow(aliases.multiscale([2]))).run(image)
  })

  test('crops of the wrong size', () => {
    // @ts-expect-error "view [1,3,4,6] does not fit model input [N,3,4,4]"
    wrap.classification(classifier4x4, orThrow(aliases.fiveCrop(4, 6))).run(square)
  })

  test('flips keep the size; a model with symbolic H, W takes every view', () => {
    wrap.segmentation(fixedSegmenter, aliases.hflip()).run(image)
    wrap.segmentation(fixedSegmenter, orThrow(aliases.rotate90([180]))).run(image)
    wrap.segmentation(segmenter, aliases.d4()).run(image)
    wrap.segmentation(segmenter, orThrow(aliases.multiscale([0.5, 2]))).run(image)
    wrap.classification(classifier4x4, orThrow(aliases.tenCrop(4, 4))).run(square)
  })

  test('images whose size is not a literal', () => {
    // A symbolic model takes a symbolic image.
    wrap.segmentation(segmenter, aliases.d4()).run(anyImage)
    // A name is a size the compiler tracks but cannot prove to be 4 or 6: decode to the model's sizes.
    // @ts-expect-error "view [N,3,H,W] does not fit model input [N,3,4,6]"
    wrap.segmentation(fixedSegmenter, aliases.hflip()).run(anyImage)
    wrap.segmentation(fixedSegmenter, aliases.hflip()).run(orThrow(decode(['N', 3, 4, 6], untyped)))
    // `number` is the escape hatch: it cannot be refuted at compile time, so it is checked at run time.
    wrap.segmentation(fixedSegmenter, aliases.d4()).run(untracked)
  })
})
