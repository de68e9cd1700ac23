import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aliases, custom, laws, orThrow, product, runnableViews, tensor, transforms as T, views, type AnyFactor, type Product } from '../../src/index.js'

const passes = (result: E.Either<laws.LawViolation, laws.LawReport>): laws.LawReport => {
  if (E.isLeft(result)) throw new Error(result.left.message)
  expect(result.right.minRuns).toBeGreaterThanOrEqual(200)
  return result.right
}

const transpose = orThrow(custom({
  name: 'transpose',
  forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
  backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
}))

const builtins: readonly (readonly [string, AnyFactor | Product<readonly AnyFactor[]>])[] = [
  ['hflip', T.hflip()],
  ['vflip', T.vflip()],
  ['rotate90 (incl. negative and past 360)', orThrow(T.rotate90([90, 180, 270, -90, 450]))],
  ['scale nearest', orThrow(T.scale([0.5, 1.5, 2, 3]))],
  ['scale nearest-exact', orThrow(T.scale([0.5, 1.5, 2], { interpolation: 'nearest-exact' }))],
  ['scale bilinear', orThrow(T.scale([0.5, 0.75, 2], { interpolation: 'bilinear' }))],
  ['scale bilinear, align corners', orThrow(T.scale([0.5, 2], { interpolation: 'bilinear', alignCorners: true }))],
  ['scale bicubic', orThrow(T.scale([0.5, 1.25, 2], { interpolation: 'bicubic' }))],
  ['scale area', orThrow(T.scale([0.5, 0.75, 2], { interpolation: 'area' }))],
  ['resize', orThrow(T.resize([[4, 6], [12, 12], [1, 3]], { interpolation: 'bilinear' }))],
  ['resize with originalSize', orThrow(T.resize([[4, 6], [9, 2]], { originalSize: [5, 7] }))],
  ['add', orThrow(T.add([-0.5, 0.25]))],
  ['multiply', orThrow(T.multiply([0.5, 2]))],
  ['translate (zeros)', orThrow(T.translate([[0, 2], [-3, 1]]))],
  ['translate (edge)', orThrow(T.translate([[1, -1]], { fill: 'edge' }))],
  ['shifts alias', orThrow(aliases.shifts(2))],
  ['fiveCrops 3x2', orThrow(T.fiveCrops(3, 2))],
  ['fiveCrops 5x5 (often larger than the image)', orThrow(T.fiveCrops(5, 5))],
  ['tenCrop alias', orThrow(aliases.tenCrop(2, 4))],
  ['d4 alias', aliases.d4()],
  ['multiscale alias', orThrow(aliases.multiscale([0.5, 2]))],
  ['custom transpose', transpose],
  ['hflip × rotate90 × scale × fiveCrops', product(T.hflip(), orThrow(T.rotate90([90])), orThrow(T.scale([2])), orThrow(T.fiveCrops(3, 4)))],
]

describe('shape law: view size = viewSize = resolveAugment = the data; masks come back at the input size', () => {
  it.each(builtins)('%s', (_name, subject) => {
    const report = passes(laws.check(subject))
    const p = subject._tag === 'Product' ? subject : product(subject)
    const shapes = report.laws.filter((l) => l.law === 'shape')
    expect(shapes.map((l) => l.view)).toEqual(views(p).map((v) => v.name))
    // Some inputs must actually make a view (not only agree on failing).
    for (const run of shapes) expect(run.applied).toBeGreaterThan(0)
    expect(report.laws.filter((l) => l.law === 'bounds')).toHaveLength(views(p).length)
  })

  it('agrees on failure: a crop larger than the image fails in viewSize, resolveAugment and augmentImage alike', () => {
    const [crop] = views(product(orThrow(T.fiveCrops(5, 5))))
    if (crop === undefined) throw new Error('no view')
    const small = fc.tuple(laws.arbitraries.image({ maxSide: 4 }), fc.integer({ min: 1, max: 3 }))
    const details = fc.check(fc.property(small, ([x, k]) => {
      const r = laws.viewShape(crop, x, k, false)
      return r.holds && !r.applied
    }), { numRuns: 200 })
    expect(details.failed).toBe(false)
  })

  it('is checked on non-square images: a transpose turns 2x5 into 5x2, and its mask comes back 2x5', () => {
    const x = orThrow(tensor([1, 3, 2, 5], Array.from({ length: 30 }, (_, k) => k)))
    const [, t] = views(product(transpose))
    if (t === undefined) throw new Error('no view')
    expect(laws.viewShape(t, x, 2, true)).toEqual({ holds: true, applied: true })
    const [, view] = runnableViews(product(transpose))
    const out = view === undefined ? undefined : view.augmentImage(x)
    expect(out !== undefined && E.isRight(out) ? out.right.shape : []).toEqual([1, 3, 5, 2])
  })
})
