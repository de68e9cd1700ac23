import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { accumulator, merge, orThrow, parseMergeMode, tensor } from '../../src/index.js'

const t2 = (values: readonly number[]) => orThrow(tensor([1, values.length], values))

describe('merge modes', () => {
  it('computes gmean in log space: 400 views of 1e-30 do not underflow to 0', () => {
    const acc = accumulator('gmean', 1)
    for (let k = 0; k < 400; k++) orThrow(acc.add(Float32Array.of(1e-30)))
    const out = orThrow(acc.result())
    expect(out[0]).toBeCloseTo(1e-30, 36)
  })

  it('gives gmean 0 when a view is 0, like the product would', () => {
    expect(Array.from(orThrow(merge('gmean', [t2([0, 4]), t2([5, 1])])).data)).toEqual([0, 2])
  })

  it('refuses gmean and tsharpen on negative values with a message that names the view and value', () => {
    const g = merge('gmean', [t2([1, 2]), t2([-0.5, 1])])
    expect(E.isLeft(g) && g.left.message).toMatch(/gmean needs non-negative values, but view 1 has -0.5 at index 0/)
    const s = merge('tsharpen', [t2([-1, 2])])
    expect(E.isLeft(s) && s.left._tag).toBe('MergeError')
  })

  it('refuses NaN in a view instead of spreading it', () => {
    // tensor() refuses NaN itself; a tensor built by hand (as untyped code may) reaches merge.
    const m = merge('mean', [{ shape: [1, 2], data: Float32Array.of(1, Number.NaN) }])
    expect(E.isLeft(m) && m.left).toMatchObject({ _tag: 'NonFiniteError', message: 'view 0 has NaN at index 1', where: 'view 0', index: 1 })
  })

  it('votes per position along the class axis, breaking ties by summed score then lowest index', () => {
    // Two views, 3 classes, 2 pixels: pixel 0 votes class 2 twice; pixel 1 is a tie 0 vs 1, class 1 scores more.
    const v1 = orThrow(tensor([1, 3, 1, 2], [0.1, 0.6, 0.2, 0.3, 0.7, 0.1]))
    const v2 = orThrow(tensor([1, 3, 1, 2], [0.2, 0.1, 0.1, 0.9, 0.7, 0.0]))
    expect(Array.from(orThrow(merge('vote', [v1, v2])).data)).toEqual([0, 0, 0, 1, 1, 0])
    // An exact tie in votes and scores goes to the lower class.
    expect(Array.from(orThrow(merge('vote', [t2([1, 0]), t2([0, 1])])).data)).toEqual([1, 0])
  })

  it('matches ttach on tsharpen: the mean of square roots, not squared back', () => {
    expect(Array.from(orThrow(merge('tsharpen', [t2([4, 1]), t2([16, 9])])).data)).toEqual([3, 2])
  })

  it('rejects an unknown mode from untyped code and a merge of nothing', () => {
    expect(parseMergeMode('median')).toEqual(E.left({ _tag: 'MergeError', message: "unknown merge mode 'median'; use one of mean, gmean, sum, max, min, tsharpen, vote" }))
    expect(E.isLeft(accumulator('mean', 2).result())).toBe(true)
  })
})
