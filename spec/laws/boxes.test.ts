// The box laws of the law kit: on every built-in kind of view (≥ 200 runs each), on custom
// transforms with point maps, and proof that they catch a point map that does not follow the pixels.
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aliases, custom, laws, orThrow, product, transforms as T, views } from '../../src/index.js'

const A = laws.arbitraries

const passes = (result: E.Either<laws.LawViolation, laws.LawReport>): laws.LawReport => {
  if (E.isLeft(result)) throw new Error(result.left.message)
  expect(result.right.minRuns).toBeGreaterThanOrEqual(200)
  return result.right
}
const boxLaws = (report: laws.LawReport) => report.laws.filter((l) => l.law === 'box-round-trip' || l.law === 'box-pixel')

const transposeWith = (points: { readonly forward: (x: number, y: number) => readonly [number, number]; readonly backward: (x: number, y: number) => readonly [number, number] }) =>
  orThrow(custom({
    name: 'transpose',
    forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
    backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
    points,
  }))

describe('box laws', () => {
  it('boxes round-trip through every flip and turn exactly, and a turned box comes back ordered (random flip/turn products, 200 runs)', () => {
    const input = fc.tuple(A.flipTurnProduct().chain((p) => A.viewOf(p)), A.frameAndBox())
    const details = fc.check(fc.property(input, ([view, { height, width, box }]) => {
      const r = laws.boxRoundTrip(view, box, [height, width], 0)
      return r.holds && (!r.applied || r.error === 0)
    }), { numRuns: 200 })
    expect(details.failed).toBe(false)
  })

  it('the box a detector finds on the real pixels comes back exactly through every flip and turn (200 runs)', () => {
    const input = fc.tuple(A.flipTurnProduct().chain((p) => A.viewOf(p)), A.frameAndRect())
    const details = fc.check(fc.property(input, ([view, rect]) => laws.boxPixel(view, rect, { absolute: 0, perViewPixel: 0 }).holds), { numRuns: 200 })
    expect(details.failed).toBe(false)
  })

  it.each([
    ['d4', aliases.d4(), 0],
    ['ten crops', orThrow(aliases.tenCrop(3, 4)), 0],
    ['tiles with the whole image, after a turn', product(orThrow(T.rotate90([90])), orThrow(T.tiles(4, 3, { rows: 2, cols: 3, whole: true }))), 0],
    ['shifts (zeros and edge fill) and a flip', product(orThrow(T.translate([[1, -2], [-3, 0]])), orThrow(T.translate([[0, 2]], { fill: 'edge' })), T.vflip()), 0],
    ['Add and Multiply (nothing moves)', product(orThrow(T.add([0.5])), orThrow(T.multiply([2]))), 0],
  ])('%s: exact, ≥ 200 runs per law and view', (_, subject, bound) => {
    const report = passes(laws.check(subject))
    const runs = boxLaws(report)
    expect(runs).toHaveLength(2 * report.views)
    for (const r of runs) expect(r.maxError ?? 0, `${r.law} ${r.view}`).toBeLessThanOrEqual(bound)
  })

  it.each([
    ['bicubic scales, with a turn', product(orThrow(T.scale([0.5, 2, 1.5], { interpolation: 'bicubic' })), orThrow(T.rotate90([90])))],
    ['nearest scales', orThrow(aliases.multiscale([0.25, 0.75, 3]))],
    ['area resizes', orThrow(T.resize([[6, 4], [3, 9]], { interpolation: 'area' }))],
    ['bilinear resizes with align corners, then crops', product(orThrow(T.resize([[10, 12]], { interpolation: 'bilinear', alignCorners: true })), orThrow(T.fiveCrops(4, 5)))],
  ])('%s: round trip within 1e-9, box/pixel within the default bound', (_, subject) => {
    const report = passes(laws.check(subject))
    for (const r of boxLaws(report)) {
      if (r.law === 'box-round-trip') expect(r.maxError ?? 0).toBeLessThanOrEqual(1e-9)
      else expect(r.bound).toEqual(laws.defaultBoxBound)
    }
  })

  it('a custom transform with point maps that follow its pixels passes, exactly up to float rounding', () => {
    const report = passes(laws.check(product(transposeWith({ forward: (x, y) => [y, x], backward: (x, y) => [y, x] }), T.hflip())))
    expect(boxLaws(report)).toHaveLength(8)
  })

  it('a point map that does not follow the pixels is caught by box-pixel', () => {
    // The gather transposes, but the point maps leave points where they are: they invert each other,
    // so the round trip holds; the box a detector finds on the transposed pixels does not come back.
    const verdict = laws.check(transposeWith({ forward: (x, y) => [x, y], backward: (x, y) => [x, y] }))
    expect(E.isLeft(verdict) && verdict.left.law).toBe('keypoint-pixel')
    // Without the keypoint laws' help: the box laws alone.
    const [, view] = views(product(transposeWith({ forward: (x, y) => [x, y], backward: (x, y) => [x, y] })))
    if (view === undefined) throw new Error('no view')
    const details = fc.check(fc.property(A.frameAndRect(), (rect) => laws.boxPixel(view, rect, { absolute: 0, perViewPixel: 0 }).holds), { numRuns: 200 })
    expect(details.failed).toBe(true)
  })

  it('point maps that do not invert each other are caught by box-round-trip', () => {
    const [, view] = views(product(transposeWith({ forward: (x, y) => [y, x], backward: (x, y) => [1 - y, x] })))
    if (view === undefined) throw new Error('no view')
    const details = fc.check(fc.property(A.frameAndBox(), ({ height, width, box }) => laws.boxRoundTrip(view, box, [height, width], 1e-9).holds), { numRuns: 200 })
    expect(details.failed).toBe(true)
  })

  it('a custom transform without point maps gets no box laws (it cannot undo boxes)', () => {
    const bare = orThrow(custom({
      name: 'transpose',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
    }))
    expect(boxLaws(passes(laws.check(bare)))).toEqual([])
  })
})
