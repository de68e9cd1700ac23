import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { custom, laws, orThrow, product, transforms as T, views, type AnyFactor, type Interpolation } from '../../src/index.js'

const passes = (result: E.Either<laws.LawViolation, laws.LawReport>): laws.LawReport => {
  if (E.isLeft(result)) throw new Error(result.left.message)
  expect(result.right.minRuns).toBeGreaterThanOrEqual(200)
  return result.right
}

/**
 * Stated bounds: the largest max |undo(do(x)) − x| over the whole smooth family of
 * `laws.arbitraries.smoothImage` (sides 8–24, h ≠ w, slopes ≤ 1/2, one sine of amplitude ≤ 1/4 and
 * at most a half period per side). The round trip is linear, so the worst plane is
 * 0.5·|R(u)| + 0.5·|R(v)| + 0.25·|R(sin)| at the worst pixel; we computed it for every size, both
 * frequencies and all 8 phases, and round up (the measured supremum is in the comment).
 */
const table: readonly (readonly [Interpolation, 'scale' | 'resize', number | readonly [number, number], number])[] = [
  ['bilinear', 'scale', 0.5, 0.17], // 0.1668
  ['bilinear', 'scale', 0.75, 0.062], // 0.0617
  ['bilinear', 'scale', 1.5, 0.037], // 0.0365
  ['bilinear', 'scale', 2, 0.038], // 0.0372
  ['bilinear', 'resize', [6, 10], 0.114], // 0.1133
  ['bilinear', 'resize', [12, 16], 0.045], // 0.0446
  ['bilinear', 'resize', [20, 12], 0.042], // 0.0411
  ['bilinear', 'resize', [32, 40], 0.018], // 0.0177
  ['bicubic', 'scale', 0.5, 0.081], // 0.0801
  ['bicubic', 'scale', 0.75, 0.049], // 0.0484
  ['bicubic', 'scale', 1.5, 0.0056], // 0.0055
  ['bicubic', 'scale', 2, 0.0033], // 0.0032
  ['bicubic', 'resize', [6, 10], 0.077], // 0.0762
  ['bicubic', 'resize', [12, 16], 0.024], // 0.0237
  ['bicubic', 'resize', [20, 12], 0.018], // 0.0178
  ['bicubic', 'resize', [32, 40], 0.0038], // 0.0037
  ['area', 'scale', 0.5, 0.26], // 0.2525
  ['area', 'scale', 0.75, 0.15], // 0.1493
  ['area', 'scale', 1.5, 0.075], // 0.0745
  ['area', 'scale', 2, 1e-6], // 0: replicate, then average equal values
  ['area', 'resize', [6, 10], 0.155], // 0.1545
  ['area', 'resize', [12, 16], 0.084], // 0.0833
  ['area', 'resize', [20, 12], 0.077], // 0.0769
  ['area', 'resize', [32, 40], 0.034], // 0.0336
  ['nearest', 'scale', 0.5, 0.5], // 0.4985
  ['nearest', 'scale', 0.75, 0.48], // 0.4717
  ['nearest', 'scale', 1.5, 0.3], // 0.2991
]

const factorOf = (interpolation: Interpolation, what: 'scale' | 'resize', by: number | readonly [number, number]): AnyFactor =>
  what === 'scale' && typeof by === 'number' ? orThrow(T.scale([by], { interpolation })) : orThrow(T.resize([typeof by === 'number' ? [by, by] : by], { interpolation, originalSize: [1, 1] }))

describe('lossy laws: the shape comes back exactly, values within a stated bound on smooth inputs', () => {
  it.each(table)('%s %s %j stays within %f (200 smooth images)', (interpolation, what, by, bound) => {
    const report = passes(laws.check(factorOf(interpolation, what, by), { lossyBound: { absolute: bound, perStep: 0 } }))
    const lossy = report.laws.filter((l) => l.law === 'lossy')
    expect(lossy).toHaveLength(1)
    const [run] = lossy
    expect(run?.numRuns).toBe(200)
    expect(run?.applied).toBe(200)
    expect(run?.maxError).toBeLessThanOrEqual(bound)
  })

  it('every built-in lossy view passes the default, step-relative bound (smooth images)', () => {
    const modes: readonly Interpolation[] = ['bilinear', 'bicubic', 'area', 'nearest', 'nearest-exact']
    const cornerModes: readonly Interpolation[] = ['bilinear', 'bicubic']
    const factors: readonly AnyFactor[] = [
      ...modes.flatMap((interpolation) => [
        orThrow(T.scale([0.25, 0.5, 0.75, 1.25, 1.5, 2], { interpolation })),
        orThrow(T.resize([[1, 7], [6, 10], [12, 16], [32, 40]], { interpolation })),
      ]),
      ...cornerModes.flatMap((interpolation) => [
        orThrow(T.scale([0.25, 0.5, 1.5, 2], { interpolation, alignCorners: true })),
        orThrow(T.resize([[1, 7], [6, 10], [32, 40]], { interpolation, alignCorners: true })),
      ]),
    ]
    for (const f of factors) expect(passes(laws.check(f)).laws.filter((l) => l.law === 'lossy').length).toBeGreaterThan(0)
    // With turns around the resample, the coarsest ratio must be counted against the right axis.
    const turnModes: readonly Interpolation[] = ['nearest', 'bilinear']
    for (const interpolation of turnModes) {
      passes(laws.check(product(orThrow(T.rotate90([90])), T.hflip(), orThrow(T.scale([0.5, 0.75], { interpolation })), orThrow(T.rotate90([90])))))
    }
  })

  it('translations pass the default bound: the shifted-out border comes back as the edge value', () => {
    const fills: readonly ('zeros' | 'edge')[] = ['zeros', 'edge']
    for (const fill of fills) {
      const report = passes(laws.check(product(orThrow(T.rotate90([90])), orThrow(T.translate([[0, 3], [-2, 1], [5, -4]], { fill })))))
      expect(report.laws.filter((l) => l.law === 'lossy')).toHaveLength(6)
    }
  })

  it('restores the exact input shape after scales that do not divide it (7·0.75 = 5.25 → 5 → 7)', () => {
    const [, view] = views(product(orThrow(T.scale([0.75], { interpolation: 'bilinear' }))))
    if (view === undefined) throw new Error('no view')
    const details = fc.check(fc.property(laws.arbitraries.smoothImage({ minSide: 5, maxSide: 11 }), (x) => laws.lossy(view, x, laws.defaultLossyBound).holds), { numRuns: 200 })
    expect(details.failed).toBe(false)
  })

  it('catches an undo that forgets a mirror under a bilinear scale, with the default bound', () => {
    const mirror = orThrow(custom({
      name: 'mirror',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'H', 'W'], source: (i, j, _h, w) => [i, w - 1 - j] },
      backward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [i, j] }, // forgot to mirror back
    }))
    const view = views(product(mirror, orThrow(T.scale([2], { interpolation: 'bilinear' }))))[3]
    expect(view?.name).toBe('mirror(true) · Scale(2)')
    if (view === undefined) throw new Error('no view')
    const details = fc.check(fc.property(laws.arbitraries.smoothImage(), (x) => laws.lossy(view, x, laws.defaultLossyBound).holds), { numRuns: 200 })
    expect(details.failed).toBe(true)
    const [x] = details.counterexample ?? []
    const verdict = x === undefined ? undefined : laws.lossy(view, x, laws.defaultLossyBound)
    expect(verdict?.holds === false ? verdict.reason : '').toMatch(/max \|undo\(do\(x\)\) − x\| = .* > allowed/)
  })
})
