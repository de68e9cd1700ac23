import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { addScores, boxIoU, boxMask, fromCounts, pixelIoU, scoreBoxes, type Box } from '../../src/textdet/index.js'

describe('boxIoU', () => {
  it('is symmetric, 1 on equal boxes, 0 on touching ones', () => {
    const a: Box = [0, 0, 10, 4]
    const b: Box = [5, 2, 15, 6]
    expect(boxIoU(a, b)).toBe(boxIoU(b, a))
    expect(boxIoU(a, b)).toBeCloseTo(10 / 70, 12)
    expect(boxIoU(a, a)).toBe(1)
    expect(boxIoU(a, [10, 0, 20, 4])).toBe(0)
    expect(boxIoU([3, 3, 3, 3], [3, 3, 3, 3])).toBe(0)
  })
})

describe('scoreBoxes', () => {
  const truth: Box[] = [[0, 0, 100, 20], [0, 40, 100, 60], [0, 80, 50, 100]]

  it('perfect predictions in any order', () => {
    const s = scoreBoxes([...truth].reverse(), truth)
    expect(s).toEqual({ tp: 3, fp: 0, fn: 0, precision: 1, recall: 1, f1: 1 })
  })

  it('matches one-to-one: a duplicate is a false positive', () => {
    const first: Box = [0, 0, 100, 20]
    const s = scoreBoxes([first, first, [0, 41, 100, 61]], truth)
    expect([s.tp, s.fp, s.fn]).toEqual([2, 1, 1])
    expect(s.precision).toBeCloseTo(2 / 3, 12)
    expect(s.recall).toBeCloseTo(2 / 3, 12)
  })

  it('greedy by IoU: the best pair is matched first', () => {
    // p0 overlaps both truths (IoU 0.6 with t0... ), p1 fits t0 exactly
    const t: Box[] = [[0, 0, 10, 10], [8, 0, 18, 10]]
    const p: Box[] = [[2, 0, 12, 10], [0, 0, 10, 10]]
    // IoUs: p0–t0 = 80/120, p0–t1 = 40/160, p1–t0 = 1 → p1–t0 first, then p0 has only t1 (0.25 < 0.5)
    const s = scoreBoxes(p, t)
    expect([s.tp, s.fp, s.fn]).toEqual([1, 1, 1])
    expect(scoreBoxes(p, t, 0.2).tp).toBe(2)
  })

  it('IoU threshold is inclusive', () => {
    // IoU exactly 0.5: [0,0,10,10] vs [0,0,10,5] = 50/100
    expect(scoreBoxes([[0, 0, 10, 5]], [[0, 0, 10, 10]]).tp).toBe(1)
    expect(scoreBoxes([[0, 0, 10, 5]], [[0, 0, 10, 10]], 0.51).tp).toBe(0)
  })

  it('empty sides', () => {
    expect(scoreBoxes([], truth)).toEqual({ tp: 0, fp: 0, fn: 3, precision: 1, recall: 0, f1: 0 })
    expect(scoreBoxes(truth, [])).toEqual({ tp: 0, fp: 3, fn: 0, precision: 0, recall: 1, f1: 0 })
    expect(scoreBoxes([], [])).toEqual({ tp: 0, fp: 0, fn: 0, precision: 1, recall: 1, f1: 1 })
  })

  it('addScores sums counts (micro average)', () => {
    const total = addScores([scoreBoxes([], truth), scoreBoxes(truth, truth)])
    expect(total).toEqual(fromCounts(3, 0, 3))
    expect(total.f1).toBeCloseTo(2 / 3, 12)
  })
})

describe('pixelIoU', () => {
  it('of box masks', () => {
    const a = boxMask([[0, 0, 4, 4]], 8, 8)
    const b = boxMask([[2, 0, 6, 4]], 8, 8)
    const v = pixelIoU(a, b)
    expect(E.isRight(v) && v.right).toBeCloseTo(8 / 24, 12)
    expect(pixelIoU(a, a)).toEqual(E.right(1))
    expect(pixelIoU(new Uint8Array(4), new Uint8Array(4))).toEqual(E.right(1))
    expect(pixelIoU(a, new Uint8Array(64))).toEqual(E.right(0))
  })
  it('treats any non-zero value as 1 and rejects masks of different sizes', () => {
    expect(pixelIoU(new Uint8Array([7, 0]), new Uint8Array([1, 0]))).toEqual(E.right(1))
    expect(E.isLeft(pixelIoU(new Uint8Array(2), new Uint8Array(3)))).toBe(true)
  })
})
