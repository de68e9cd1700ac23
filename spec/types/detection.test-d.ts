/**
 * Check 9: detection. `wrap.detection` needs a product whose every factor can undo boxes (all
 * built-ins can, crops and tiles too; a custom transform needs a point map) and a model whose
 * declared result is detections, one per image.
 */
import { describe, expectTypeOf, test } from 'vitest'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { aliases, custom, orThrow, product, runnableViews, transforms as T, wrap, type boxes, type Tensor, type TtaError, type UndoOf, type ViewDetections } from '../../src/index.js'
import { boxer, fixedBoxer, image, segmenter, square } from './fixtures.js'

const transpose = orThrow(custom({
  name: 'transpose',
  forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
  backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
}))
const pointedTranspose = orThrow(custom({
  name: 'transpose',
  forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
  backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
  points: { forward: (x, y) => [y, x], backward: (x, y) => [y, x] },
}))
declare const one: (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<boxes.Detections>
declare const loose: (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<{ boxes: number[][]; scores: number[]; labels: number[] }[]>

describe('detection', () => {
  test('a product that cannot undo boxes does not compile', () => {
    // @ts-expect-error "transpose cannot put boxes back into the full frame"
    wrap.detection(boxer, product(transpose))
    // @ts-expect-error "transpose cannot put boxes back into the full frame"
    wrap.detection(boxer, product(T.hflip(), transpose))
    wrap.detection(boxer, product(T.hflip(), pointedTranspose)).run(image)
  })

  test('flips, turns, scales, shifts, crops and tiles all undo boxes', () => {
    wrap.detection(boxer, aliases.d4()).run(image)
    wrap.detection(boxer, orThrow(aliases.multiscale([0.5, 2]))).run(image)
    wrap.detection(boxer, orThrow(aliases.shifts(2))).run(image)
    wrap.detection(boxer, orThrow(aliases.tenCrop(4, 4))).run(square)
    wrap.detection(boxer, orThrow(aliases.tiles(4, 4, { rows: 2, cols: 2, whole: true }))).run(square)
    expectTypeOf<UndoOf<T.Tiles<4, 4>>>().toEqualTypeOf<'label' | 'boxes'>()
    expectTypeOf<UndoOf<T.FiveCrops<4, 4>>>().toEqualTypeOf<'label' | 'boxes'>()
  })

  test('tiles cannot undo masks or keypoints', () => {
    // @ts-expect-error "Tiles cannot put a mask back into the full frame"
    wrap.segmentation(segmenter, orThrow(aliases.tiles(4, 4, { rows: 2, cols: 2 })))
  })

  test('a model that does not resolve to detections does not compile', () => {
    // @ts-expect-error "a detection model must resolve to one { boxes, scores, labels } per image, but this one resolves to a tensor [N,2,H,W]"
    wrap.detection(segmenter, aliases.hflip())
    // @ts-expect-error "but this one resolves to one { boxes, scores, labels } for the whole batch, not one per image"
    wrap.detection(one, aliases.hflip())
    // Plain arrays (not tuples) are fine: the values are checked at run time.
    wrap.detection(loose, aliases.hflip()).run(image)
    // A tensor model becomes a detection model with its post-processing.
    wrap.detection(wrap.detector(segmenter, () => ({ boxes: [], scores: [], labels: [] })), aliases.d4()).run(image)
  })

  test('views must fit a fixed-size detector', () => {
    // @ts-expect-error "view [1,3,6,4] does not fit model input [N,3,4,6]"
    wrap.detection(fixedBoxer, aliases.d4()).run(image)
    wrap.detection(fixedBoxer, aliases.flip()).run(image)
  })

  test('the result: one detections per image, with the views when asked', () => {
    expectTypeOf(wrap.detection(boxer, aliases.d4()).run(image)).toEqualTypeOf<TE.TaskEither<TtaError, readonly boxes.Detections[]>>()
    expectTypeOf(wrap.detection(boxer, aliases.d4(), { keepViews: true }).run(image))
      .toEqualTypeOf<TE.TaskEither<TtaError, readonly (boxes.Detections & { readonly views: readonly ViewDetections[] })[]>>()
  })

  test('runnable views offer deaugmentBoxes exactly when every factor undoes boxes', () => {
    expectTypeOf(runnableViews(aliases.d4())).items.toHaveProperty('deaugmentBoxes')
    expectTypeOf(runnableViews(orThrow(aliases.fiveCrop(4, 4)))).items.toHaveProperty('deaugmentBoxes')
    const [view] = runnableViews(product(transpose))
    // @ts-expect-error "Property 'deaugmentBoxes' does not exist"
    view?.deaugmentBoxes
  })
})
