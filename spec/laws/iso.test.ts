import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aliases, custom, dihedral, dihedral4, laws, orThrow, product, transforms as T, views, type D4Element } from '../../src/index.js'

const A = laws.arbitraries

/** The report of a check that must pass, with at least 200 runs for every law. */
const passes = (result: E.Either<laws.LawViolation, laws.LawReport>): laws.LawReport => {
  if (E.isLeft(result)) throw new Error(result.left.message)
  expect(result.right.minRuns).toBeGreaterThanOrEqual(200)
  return result.right
}
const ran = (report: laws.LawReport, law: laws.LawName): readonly string[] => report.laws.filter((l) => l.law === law).map((l) => l.view)

const transpose = orThrow(custom({
  name: 'transpose',
  forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
  backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
  points: { forward: (x, y) => [y, x], backward: (x, y) => [y, x] },
}))

describe('iso laws: undo(do(x)) = x and do(undo(y)) = y, exactly', () => {
  it.each(dihedral4.d4Elements.map((g): [string, D4Element] => [dihedral4.d4Name(g), g]))('holds for the D4 element %s on its own (200 runs)', (_name, element) => {
    const view = laws.viewOfSteps([{ op: 'd4', element }])
    const details = fc.check(fc.property(A.imageAndViewFrame(view), ({ x, y }) => laws.iso(view, x, y).holds), { numRuns: 200 })
    expect(details.failed).toBe(false)
    expect(details.numRuns).toBe(200)
  })

  it('holds for every view of d4 (8 distinct elements)', () => {
    const report = passes(laws.check(aliases.d4(), { pointTolerance: 0 }))
    expect(dihedral(aliases.d4())?.distinct).toBe(8)
    expect(ran(report, 'iso')).toEqual(views(aliases.d4()).map((v) => v.name))
  })

  it('holds for flip (hflip × vflip)', () => {
    expect(ran(passes(laws.check(aliases.flip(), { pointTolerance: 0 })), 'iso')).toHaveLength(4)
  })

  it('holds for hflip × vflip × rotate90 (16 views, 8 distinct elements)', () => {
    const p = product(T.hflip(), T.vflip(), orThrow(T.rotate90([90, 180, 270])))
    const report = passes(laws.check(p, { pointTolerance: 0 }))
    expect(ran(report, 'iso')).toHaveLength(16)
    expect(dihedral(p)?.distinct).toBe(8)
  })

  it('holds for a custom transpose, alone and in a product with built-ins', () => {
    const alone = passes(laws.check(transpose))
    expect(ran(alone, 'iso')).toEqual(['identity', 'transpose(true)'])
    const mixed = product(T.hflip(), transpose, orThrow(T.rotate90([90])))
    const report = passes(laws.check(mixed))
    expect(ran(report, 'iso')).toHaveLength(8)
    expect(ran(report, 'keypoint-pixel')).toHaveLength(8)
  })

  it('holds on the views of random products of flips and turns (200 runs)', () => {
    const input = A.flipTurnProduct().chain((p) => A.viewOf(p)).chain((view) => A.imageAndViewFrame(view).map((xy) => ({ view, ...xy })))
    const details = fc.check(fc.property(input, ({ view, x, y }) => laws.iso(view, x, y).holds), { numRuns: 200 })
    expect(details.failed).toBe(false)
  })

  it('holds with Add/Multiply in the product: pointwise steps are left out of do for masks', () => {
    // hflip's identity option is an iso, so every view of this product is one, the pure Add/Multiply views included.
    const p = product(T.hflip(), orThrow(T.add([0.5])), orThrow(T.multiply([2])))
    expect(ran(passes(laws.check(p)), 'iso')).toEqual(views(p).map((v) => v.name))
    // Alone, Add and Multiply make invariant views.
    const q = product(orThrow(T.add([0.5])), orThrow(T.multiply([2])))
    const report = passes(laws.check(q))
    expect(ran(report, 'iso')).toEqual(['identity'])
    expect(ran(report, 'invariant')).toEqual(['Multiply(2)', 'Add(0.5)', 'Add(0.5) · Multiply(2)'])
  })
})
