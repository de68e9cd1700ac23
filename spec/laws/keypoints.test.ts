import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aliases, custom, laws, orThrow, product, tensor, transforms as T, undoPoint, views } from '../../src/index.js'
import { movePoint } from '../../src/transform/step.js'

const A = laws.arbitraries

const passes = (result: E.Either<laws.LawViolation, laws.LawReport>): laws.LawReport => {
  if (E.isLeft(result)) throw new Error(result.left.message)
  expect(result.right.minRuns).toBeGreaterThanOrEqual(200)
  return result.right
}

const transpose = orThrow(custom({
  name: 'transpose',
  forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
  backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
  points: { forward: (x, y) => [y, x], backward: (x, y) => [y, x] },
}))

describe('keypoint laws', () => {
  it('undo ∘ move = id and move ∘ undo = id, exactly, on every view of random flip/turn products (200 runs)', () => {
    const input = fc.tuple(A.flipTurnProduct().chain((p) => A.viewOf(p)), A.keypoints())
    const details = fc.check(fc.property(input, ([view, points]) => laws.keypointRoundTrip(view, points, 0).holds), { numRuns: 200 })
    expect(details.failed).toBe(false)
  })

  it('a pixel centre moves with its pixel on every view of random flip/turn products (200 runs)', () => {
    const input = fc.tuple(A.flipTurnProduct().chain((p) => A.viewOf(p)), A.pixel())
    const details = fc.check(fc.property(input, ([view, px]) => laws.keypointPixel(view, px, 1e-12).holds), { numRuns: 200 })
    expect(details.failed).toBe(false)
  })

  it('check runs both laws on d4 (exact round trips) and on a custom transpose with point maps', () => {
    const d4 = passes(laws.check(aliases.d4(), { pointTolerance: 0 }))
    expect(d4.laws.filter((l) => l.law === 'keypoints')).toHaveLength(8)
    expect(d4.laws.filter((l) => l.law === 'keypoint-pixel')).toHaveLength(8)
    const t = passes(laws.check(product(transpose, T.hflip()), { pointTolerance: 0 }))
    expect(t.laws.filter((l) => l.law === 'keypoint-pixel').map((l) => l.view)).toEqual(views(product(transpose, T.hflip())).map((v) => v.name))
  })

  it('resamples keep normalised points: the round trip holds on scale and resize views too', () => {
    const p = product(T.hflip(), orThrow(T.scale([0.5, 2], { interpolation: 'bilinear' })), orThrow(T.rotate90([270])))
    const report = passes(laws.check(p, { pointTolerance: 0 }))
    expect(report.laws.filter((l) => l.law === 'keypoints')).toHaveLength(views(p).length)
    // Pixel consistency is only claimed for views that permute pixels.
    expect(report.laws.filter((l) => l.law === 'keypoint-pixel').map((l) => l.view)).toEqual(views(p).filter((v) => v.kind === 'iso').map((v) => v.name))
  })

  it('translations move points by whole pixels of the image they are given (round trip within 1e-6)', () => {
    const p = product(T.hflip(), orThrow(T.translate([[0, 3], [-2, 1]])), orThrow(T.rotate90([90])))
    const report = passes(laws.check(p))
    expect(report.laws.filter((l) => l.law === 'keypoints')).toHaveLength(views(p).length)
    const [, shifted] = views(product(orThrow(T.translate([[0, 3]]))))
    if (shifted === undefined) throw new Error('no view')
    const points = orThrow(tensor([1, 1, 2], [0.5, 0.5]))
    // Without the image size a whole-pixel shift has no normalised meaning: the law says so.
    expect(laws.keypointRoundTrip(shifted, points, 1e-6)).toMatchObject({ holds: false })
    expect(laws.keypointRoundTrip(shifted, points, 1e-6, [4, 6]).holds).toBe(true)
  })

  it('has no keypoint laws where keypoints cannot be undone (crops, custom without point maps)', () => {
    const crops = passes(laws.check(orThrow(T.fiveCrops(2, 2))))
    expect(crops.laws.some((l) => l.law === 'keypoints' || l.law === 'keypoint-pixel')).toBe(false)
    const [crop] = views(product(orThrow(T.fiveCrops(2, 2))))
    expect(E.isLeft(movePoint(crop?.steps ?? []))).toBe(true)
    expect(E.isLeft(undoPoint(crop?.steps ?? []))).toBe(true)
    const bare = orThrow(custom({
      name: 'bare',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
    }))
    expect(passes(laws.check(bare)).laws.some((l) => l.law === 'keypoints')).toBe(false)
  })

  it('movePoint follows the D4 conventions: hflip maps x to 1 − x, a quarter turn (x, y) to (y, 1 − x)', () => {
    const [, rot90, , , hflip] = views(aliases.d4())
    const move = (steps: Parameters<typeof movePoint>[0]) => E.getOrElseW(() => () => [Number.NaN, Number.NaN])(movePoint(steps))
    expect(move(hflip?.steps ?? [])(0.25, 0.125)).toEqual([0.75, 0.125])
    expect(move(rot90?.steps ?? [])(0.25, 0.125)).toEqual([0.125, 0.75])
  })
})
