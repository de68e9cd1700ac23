import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { laws, orThrow, product, transforms as T, views, type Interpolation } from '../../src/index.js'

const passes = (result: E.Either<laws.LawViolation, laws.LawReport>): laws.LawReport => {
  if (E.isLeft(result)) throw new Error(result.left.message)
  expect(result.right.minRuns).toBeGreaterThanOrEqual(200)
  return result.right
}

describe('retraction laws: undo(do(x)) = x exactly for integer nearest up-scaling', () => {
  const cases = [2, 3, 4].flatMap((k): (readonly [Interpolation, number])[] => [['nearest', k], ['nearest-exact', k]])

  it.each(cases)('%s × %i is a retraction (200 runs on non-square images)', (interpolation, k) => {
    const report = passes(laws.check(orThrow(T.scale([k], { interpolation }))))
    const run = report.laws.find((l) => l.law === 'retraction')
    expect(run).toMatchObject({ view: `Scale(${k})`, numRuns: 200, applied: 200 })
  })

  it('holds for flips and turns composed with an integer scale (hflip × rotate90 × scale 2)', () => {
    const p = product(T.hflip(), orThrow(T.rotate90([90])), orThrow(T.scale([2])))
    const report = passes(laws.check(p, { pointTolerance: 0 }))
    expect(report.laws.filter((l) => l.law === 'retraction').map((l) => l.view)).toEqual(
      views(p).filter((v) => v.kind === 'retraction').map((v) => v.name))
    expect(report.laws.filter((l) => l.law === 'retraction')).toHaveLength(4)
  })

  it('is not an iso: do(undo(y)) = y fails for y that is not constant on the blocks', () => {
    const [, twice] = views(product(orThrow(T.scale([2]))))
    if (twice === undefined) throw new Error('no view')
    const details = fc.check(fc.property(laws.arbitraries.imageAndViewFrame(twice), ({ x, y }) => laws.iso(twice, x, y).holds), { numRuns: 200 })
    expect(details.failed).toBe(true)
  })

  it('also holds (measured) for area at integer factors, which the library files as lossy', () => {
    for (const k of [2, 3]) {
      const [, view] = views(product(orThrow(T.scale([k], { interpolation: 'area' }))))
      if (view === undefined) throw new Error('no view')
      expect(view.kind).toBe('lossy')
      const details = fc.check(fc.property(laws.arbitraries.image(), (x) => laws.retraction(view, x).holds), { numRuns: 200 })
      expect(details.failed).toBe(false)
    }
  })
})
