import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow, product, runnableViews, tensor, transforms as T, wrap, type Tensor } from '../../src/index.js'

const image = orThrow(tensor([1, 1, 2, 3], [1, 2, 3, 4, 5, 6]))

describe('Translate', () => {
  it('moves content right/down by whole pixels, filling with zeros or the edge', () => {
    const [, right] = runnableViews(product(orThrow(T.translate([[0, 1]]))))
    expect(Array.from(orThrow(right?.augmentImage(image) ?? E.left({ _tag: 'ShapeError', message: '' })).data)).toEqual([0, 1, 2, 0, 4, 5])
    const [, down] = runnableViews(product(orThrow(T.translate([[1, 0]], { fill: 'edge' }))))
    expect(Array.from(orThrow(down?.augmentImage(image) ?? E.left({ _tag: 'ShapeError', message: '' })).data)).toEqual([1, 2, 3, 1, 2, 3])
  })

  it('brings a mask back shifted the other way, with its edge for what left the frame', () => {
    const [, right] = runnableViews(product(orThrow(T.translate([[0, 1]]))))
    const mask = orThrow(tensor([1, 1, 2, 3], [0, 1, 2, 0, 4, 5]))
    expect(Array.from(orThrow(right?.deaugmentMask(mask, image) ?? E.left({ _tag: 'ShapeError', message: '' })).data)).toEqual([1, 2, 2, 4, 5, 5])
  })

  it('moves keypoints back exactly and leaves labels alone', async () => {
    // A model that finds the brightest pixel, normalised: after a shift of +1 column it sees it one column right.
    const brightest = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => {
      const [n, , h, w] = x.shape
      const out = Array.from({ length: n }, (_, b) => {
        const plane = Array.from(x.data.subarray(b * h * w, (b + 1) * h * w))
        const k = plane.indexOf(Math.max(...plane))
        return [((k % w) + 0.5) / w, (Math.floor(k / w) + 0.5) / h]
      }).flat()
      return orThrow(tensor([n, 2], out))
    }
    const bright = orThrow(tensor([1, 1, 3, 4], [0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0]))
    const tta = orThrow(await wrap.keypoints(brightest, product(orThrow(T.translate([[0, 1], [1, 0], [-1, 0]]))), { coordinates: 'normalized' }).run(bright)())
    expect(Array.from(tta.data)).toEqual(Array.from((await brightest(bright)).data))
  })

  it('refuses fractional shifts and unknown fills', () => {
    expect(E.isLeft(T.translate([[0.5, 0]]))).toBe(true)
    expect(E.isLeft(T.translate([[1, 0]], JSON.parse('{"fill":"wrap"}')))).toBe(true)
  })
})
