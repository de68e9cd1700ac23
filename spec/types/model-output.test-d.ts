/**
 * Check 10: a model whose declared output does not fit its task in the input's frame. A
 * segmentation model returns masks `[N, K, H, W]` at its input's size; a keypoint model `[N, 2K]`.
 */
import { describe, test } from 'vitest'
import { aliases, orThrow, wrap, zeros, type Tensor } from '../../src/index.js'
import { classifier, fixedSegmenter, image, image32, pointer, segmenter, strided } from './fixtures.js'

declare const oddPointer: (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly ['N', 5]>>
declare const pointMap: (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly ['N', 17, 'H', 'W']>>
declare const transposed: (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly ['N', 2, 'W', 'H']>>
declare const untracked: (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly [number, 2, number, number]>>

describe('model output', () => {
  test("a classifier's [N, 10] is not a mask", () => {
    // @ts-expect-error "a segmentation model must return masks [N,K,H,W], but this model returns [N,10]"
    wrap.segmentation(classifier, aliases.d4())
  })

  test('a stride-2 head returns masks of half the size', () => {
    // @ts-expect-error "a segmentation model must return masks the size of its input, but this model takes [N,3,32,32] and returns [N,2,16,16]"
    wrap.segmentation(strided, aliases.hflip()).run(image32)
    // @ts-expect-error "but this model takes [N,3,H,W] and returns [N,2,W,H]"
    wrap.segmentation(transposed, aliases.hflip())
  })

  test('masks in the input frame compile; names against literals and `number` are left to run time', () => {
    wrap.segmentation(segmenter, aliases.d4()).run(image)
    wrap.segmentation(fixedSegmenter, aliases.flip()).run(image)
    wrap.segmentation(untracked, aliases.d4()).run(image)
    const fixedOutput = async (_x: Tensor<readonly ['N', 3, 'H', 'W']>) => ({ mask: orThrow(zeros([1, 2, 4, 6])), aux: orThrow(zeros([1])) })
    wrap.segmentation(fixedOutput, aliases.hflip(), { outputKey: 'mask' }).run(image)
  })

  test('a keypoint model returns [N, 2K]', () => {
    // @ts-expect-error "a keypoint model must return [N,2K] (x, y pairs), but this model returns [N,5]"
    wrap.keypoints(oddPointer, aliases.d4())
    // @ts-expect-error "a keypoint model must return [N,2K] (x, y pairs), but this model returns [N,17,H,W]"
    wrap.keypoints(pointMap, aliases.d4())
    wrap.keypoints(pointer, aliases.d4()).run(image)
  })
})
