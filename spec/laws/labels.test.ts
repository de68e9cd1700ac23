import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aliases, laws, orThrow, product, runnableViews, transforms as T, views, type Shape, type Tensor } from '../../src/index.js'

const passes = (result: E.Either<laws.LawViolation, laws.LawReport>): laws.LawReport => {
  if (E.isLeft(result)) throw new Error(result.left.message)
  expect(result.right.minRuns).toBeGreaterThanOrEqual(200)
  return result.right
}

describe('labels are untouched by geometry', () => {
  it('on every view of a product of every kind of built-in, crops included', () => {
    const p = product(T.hflip(), orThrow(T.rotate90([90])), orThrow(T.scale([2, 0.5], { interpolation: 'bilinear' })), orThrow(T.add([0.5])), orThrow(T.fiveCrops(2, 3)))
    const report = passes(laws.check(p))
    expect(report.laws.filter((l) => l.law === 'label').map((l) => l.view)).toEqual(views(p).map((v) => v.name))
  })

  it('for random labels on the views of tenCrop (200 runs)', () => {
    const all = runnableViews(orThrow(aliases.tenCrop(2, 2)))
    const input = fc.tuple(fc.nat(all.length - 1), laws.arbitraries.labels())
    const details = fc.check(fc.property(input, ([k, label]) => {
      const view = all[k]
      return view !== undefined && laws.labelUntouched(view, label).holds
    }), { numRuns: 200 })
    expect(details.failed).toBe(false)
  })

  it('would be caught if a view changed the label (here: in place, reversing the scores)', () => {
    const meddling = { deaugmentLabel: <L extends Shape>(label: Tensor<L>): Tensor<L> => { label.data.reverse(); return label } }
    const details = fc.check(fc.property(laws.arbitraries.labels(), (label) => laws.labelUntouched(meddling, label).holds), { numRuns: 200 })
    expect(details.failed).toBe(true)
  })
})
