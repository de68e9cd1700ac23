import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { custom, laws, orThrow, product, transforms as T } from '../../src/index.js'

/** The violation of a check that must fail. */
const violation = (result: E.Either<laws.LawViolation, laws.LawReport>): laws.LawViolation => {
  if (E.isRight(result)) throw new Error(`expected a violation, but ${result.right.laws.length} laws held`)
  return result.left
}


describe('the kit catches broken custom transforms', () => {
  it('a transpose whose way back anti-transposes (in bounds, wrong) fails the iso law', () => {
    const broken = custom({
      name: 'transpose',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j, h, w) => [h - 1 - j, w - 1 - i] },
    })
    const v = violation(laws.check(broken))
    expect(v.law).toBe('iso')
    expect(v.view).toBe('transpose(true)')
    expect(v.reason).toMatch(/undo\(do\(x\)\) ≠ x|do\(undo\(y\)\) ≠ y/)
    expect(v.counterexample).toBeDefined()
    expect(v.message).toContain("law 'iso' fails for view 'transpose(true)'")
    // The seed replays the same verdict.
    const again = violation(laws.check(broken, { seed: v.seed }))
    expect([again.law, again.view, again.reason]).toEqual([v.law, v.view, v.reason])
  })

  it('is also caught inside a product with built-ins, naming the first broken view', () => {
    const broken = orThrow(custom({
      name: 'transpose',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j, h, w) => [h - 1 - j, w - 1 - i] },
    }))
    const v = violation(laws.check(product(T.hflip(), broken)))
    expect(v.law).toBe('iso')
    expect(v.view).toBe('transpose(true)')
  })

  it('a way back that reads outside the view fails the bounds law', () => {
    const broken = custom({
      name: 'transpose',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [i, j] }, // forgot to swap
    })
    const v = violation(laws.check(broken))
    expect(v.law).toBe('bounds')
    expect(v.reason).toMatch(/undo stage 0 \(custom 'transpose'\) reads \(\d+, \d+\) outside its \d+x\d+ input/)
  })

  it('point maps that do not invert each other fail the keypoint round trip', () => {
    const broken = custom({
      name: 'transpose',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
      points: { forward: (x, y) => [y, x], backward: (x, y) => [x, y] },
    })
    const v = violation(laws.check(broken))
    expect(v.law).toBe('keypoints')
    expect(v.reason).toMatch(/undo\(move\(p\)\) ≠ p/)
  })

  it('point maps that invert each other but do not follow the pixels (a quarter turn on a transpose) fail keypoint-pixel', () => {
    const broken = custom({
      name: 'transpose',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
      points: { forward: (x, y) => [y, 1 - x], backward: (x, y) => [1 - y, x] },
    })
    const v = violation(laws.check(broken))
    expect(v.law).toBe('keypoint-pixel')
    expect(v.reason).toMatch(/lands on .* but its centre .* moves to/)
  })

  it('a transform that cannot be built is reported, not thrown', () => {
    const v = violation(laws.check(custom({
      name: 'squash',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'K', 'W'], source: (i, j) => [i, j] },
      backward: { from: ['N', 'C', 'K', 'W'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [i, j] },
    })))
    expect(v.law).toBe('construction')
    expect(v.reason).toMatch(/not a spatial name/)
  })

  it('a custom gather that throws is reported with its message', () => {
    const v = violation(laws.check(custom({
      name: 'thrower',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'H', 'W'], source: (i, j, h) => { if (i === h - 1) throw new Error('last row!'); return [i, j] } },
      backward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [i, j] },
    })))
    expect(v.reason).toContain('last row!')
  })
})
