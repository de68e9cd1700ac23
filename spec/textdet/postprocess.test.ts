import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow, tensor } from '../../src/index.js'
import { binarize, boxesFromProbability, boxMask, type Box, type BoxOptions, type Detection } from '../../src/textdet/index.js'

/** A W×H map with the given rectangles (x1/y1 exclusive) filled with `p`. */
const mapWith = (width: number, height: number, rects: readonly (readonly [number, number, number, number, number])[]) => {
  const data = new Float32Array(width * height)
  for (const [x0, y0, x1, y1, p] of rects) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * width + x] = p
  return orThrow(tensor([1, 1, height, width], data))
}
const boxes = (found: E.Either<unknown, readonly Detection[]>, options: { core?: boolean } = {}): Box[] => {
  if (E.isLeft(found)) throw new Error('unexpected Left')
  return found.right.map((d) => (options.core === true ? d.core : d.box))
}

describe('boxesFromProbability', () => {
  it('finds one box per component with its exact pixel extent as the core', () => {
    const map = mapWith(40, 20, [[2, 2, 12, 5, 0.9], [20, 10, 35, 18, 0.8]])
    expect(boxes(boxesFromProbability(map), { core: true })).toEqual([[2, 2, 12, 5], [20, 10, 35, 18]])
  })

  it('unclips by d = w·h·1.5 / (2(w + h)), rounded, clipped to the map', () => {
    const map = mapWith(40, 20, [[2, 2, 12, 5, 0.9], [20, 10, 35, 18, 0.8]])
    // 10×3: d = 45/26 ≈ 1.73 → 2; 15×8: d = 180/46 ≈ 3.91 → 4 (bottom clipped at 20)
    expect(boxes(boxesFromProbability(map))).toEqual([[0, 0, 14, 7], [16, 6, 39, 20]])
    expect(boxes(boxesFromProbability(map, { unclipRatio: 0 }))).toEqual([[2, 2, 12, 5], [20, 10, 35, 18]])
    // ratio 3 on the 10×3 one: d ≈ 3.46 → the box is [-1.46, …] → clipped to 0
    expect(boxes(boxesFromProbability(map, { unclipRatio: 3 }))[0]).toEqual([0, 0, 15, 8])
  })

  it('binarises strictly above the threshold (default 0.3)', () => {
    const map = mapWith(20, 10, [[1, 1, 9, 5, 0.3], [11, 1, 19, 5, 0.31]])
    expect(boxes(boxesFromProbability(map, { boxThreshold: 0 }), { core: true })).toEqual([[11, 1, 19, 5]])
    expect(boxes(boxesFromProbability(map, { threshold: 0.2, boxThreshold: 0 }), { core: true })).toEqual([[1, 1, 9, 5], [11, 1, 19, 5]])
  })

  it('drops components whose mean probability over the box is below boxThreshold (default 0.6)', () => {
    const map = mapWith(30, 10, [[1, 1, 9, 5, 0.5], [11, 1, 19, 5, 0.7]])
    expect(boxes(boxesFromProbability(map), { core: true })).toEqual([[11, 1, 19, 5]])
    // an L shape: half its box is empty, so its score is about half its probability
    const ell = mapWith(30, 30, [[0, 0, 20, 4, 1], [0, 4, 4, 20, 1]])
    const found = boxesFromProbability(ell, { boxThreshold: 0 })
    expect(E.isRight(found) && found.right[0]?.score).toBeCloseTo((80 + 64) / 400, 6)
    expect(boxes(boxesFromProbability(ell))).toEqual([])
    expect(boxes(boxesFromProbability(ell, { boxThreshold: 0.3 })).length).toBe(1)
  })

  it('drops components under minArea pixels or thinner than minSide', () => {
    const map = mapWith(30, 10, [[1, 1, 4, 4, 0.9], [10, 1, 25, 3, 0.9]])  // 9 px; 15×2
    expect(boxes(boxesFromProbability(map))).toEqual([])
    expect(boxes(boxesFromProbability(map, { minArea: 9 }), { core: true })).toEqual([[1, 1, 4, 4]])
    expect(boxes(boxesFromProbability(map, { minArea: 9, minSide: 2 }), { core: true })).toEqual([[1, 1, 4, 4], [10, 1, 25, 3]])
  })

  it('joins diagonal neighbours with 8-connectivity only', () => {
    const map = mapWith(20, 20, [[2, 2, 8, 8, 0.9], [8, 8, 14, 14, 0.9]])
    const opts: BoxOptions = { boxThreshold: 0 }
    expect(boxes(boxesFromProbability(map, opts), { core: true })).toEqual([[2, 2, 14, 14]])
    expect(boxes(boxesFromProbability(map, { ...opts, connectivity: 4 }), { core: true })).toEqual([[2, 2, 8, 8], [8, 8, 14, 14]])
  })

  it('restricts itself to the image inside a padded map', () => {
    const map = mapWith(32, 32, [[2, 2, 12, 6, 0.9], [2, 20, 12, 30, 0.9]])
    const found = boxes(boxesFromProbability(map, { size: { width: 20, height: 16 } }))
    expect(found.length).toBe(1)
    expect(found[0]?.every((v, i) => v <= (i % 2 === 0 ? 20 : 16))).toBe(true)
  })

  it('accepts [H,W] and rejects maps with more than one plane', () => {
    const flat = orThrow(tensor([10, 20], new Float32Array(200).fill(0.9)))
    expect(boxes(boxesFromProbability(flat), { core: true })).toEqual([[0, 0, 20, 10]])
    expect(E.isLeft(boxesFromProbability(orThrow(tensor([1, 2, 4, 4], new Float32Array(32)))))).toBe(true)
    expect(E.isLeft(boxesFromProbability(orThrow(tensor([16], new Float32Array(16)))))).toBe(true)
  })

  it('handles a map that is text everywhere and one that is empty', () => {
    expect(boxes(boxesFromProbability(mapWith(64, 64, [[0, 0, 64, 64, 1]])), { core: true })).toEqual([[0, 0, 64, 64]])
    expect(boxes(boxesFromProbability(mapWith(64, 64, [])))).toEqual([])
  })
})

describe('binarize and boxMask', () => {
  it('binarize is strict', () => {
    expect(Array.from(orThrow(binarize(orThrow(tensor([2, 2], [0.3, 0.31, 0, 1])))))).toEqual([0, 1, 0, 1])
  })
  it('boxMask fills boxes (x1/y1 exclusive), clipped to the frame, overlaps once', () => {
    const mask = boxMask([[-2, 1, 2, 3], [1, 2, 9, 9]], 4, 4)
    expect(Array.from(mask)).toEqual([
      0, 0, 0, 0,
      1, 1, 0, 0,
      1, 1, 1, 1,
      0, 1, 1, 1,
    ])
  })
})
